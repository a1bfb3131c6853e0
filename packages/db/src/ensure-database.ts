/**
 * Creating the application database on first start, so `npm run db:migrate` works against
 * a fresh PostgreSQL server without a manual `createdb`.
 */
import pg from "pg";
import { databaseNameOf, pgTargetOf, quoteIdent, withDatabaseName } from "./database-url.js";

const PG_INVALID_CATALOG_NAME = "3D000"; // database does not exist
const PG_DUPLICATE_DATABASE = "42P04";
const PG_UNIQUE_VIOLATION = "23505"; // two CREATE DATABASE racing on pg_database's unique index

function codeOf(err: unknown): unknown {
  return typeof err === "object" && err !== null && "code" in err ? err.code : undefined;
}

async function tryConnect(databaseUrl: string): Promise<pg.Client | undefined> {
  const client = new pg.Client({ connectionString: pgTargetOf(databaseUrl).connectionString });
  client.on("error", () => {}); // reported by the failing query; unhandled it would crash the process
  try {
    await client.connect();
    return client;
  } catch (err) {
    if (codeOf(err) === PG_INVALID_CATALOG_NAME) return undefined;
    throw err;
  }
}

/**
 * Creates the database `databaseUrl` names unless it exists. Connecting to it first means a
 * role without access to the `postgres` database is fine once the database exists; otherwise
 * the role needs CREATEDB and `CREATE DATABASE` runs from `postgres` (or `template1`).
 *
 * @returns whether this call created it (false when it existed or a concurrent call won).
 */
export async function ensureDatabase(databaseUrl: string): Promise<{ created: boolean }> {
  const name = databaseNameOf(databaseUrl);
  const existing = await tryConnect(databaseUrl);
  if (existing) {
    await existing.end();
    return { created: false };
  }
  const admin =
    (await tryConnect(withDatabaseName(databaseUrl, "postgres"))) ??
    (await tryConnect(withDatabaseName(databaseUrl, "template1")));
  if (!admin)
    throw new Error(`Cannot create database ${name}: neither "postgres" nor "template1" is reachable`);
  try {
    await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return { created: true };
  } catch (err) {
    const code = codeOf(err);
    if (code === PG_DUPLICATE_DATABASE || code === PG_UNIQUE_VIOLATION) return { created: false };
    throw new Error(`Cannot create database ${name}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  } finally {
    await admin.end().catch(() => {});
  }
}
