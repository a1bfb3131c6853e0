/**
 * The single `pg` connection a migration run works on: session-level advisory locks need
 * one connection, and the search_path must point at the schema Prisma would migrate.
 */
import pg from "pg";
import { pgTargetOf, quoteIdent } from "./database-url.js";

/**
 * Connects, creates the target schema if missing and makes it the search_path, as Prisma's
 * engine does for the URL's `?schema=` (default `public`).
 */
export async function openMigrationSession(databaseUrl: string): Promise<pg.Client> {
  const { connectionString, schema } = pgTargetOf(databaseUrl);
  const client = new pg.Client({ connectionString, application_name: "zixly-migrate" });
  // A dropped connection also rejects the pending query, which is where it is reported;
  // without a listener the 'error' event would crash the process instead.
  client.on("error", () => {});
  await client.connect();
  try {
    // Look before creating: CREATE SCHEMA IF NOT EXISTS still demands CREATE on the database.
    const { rowCount } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    if (rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`SET search_path TO ${quoteIdent(schema)}`);
    return client;
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
}
