/** Empty databases for tests of the migration runner itself (createTestDatabase migrates). */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { quoteIdent, withDatabaseName } from "../database-url.js";
import { testServerUrl } from "../testing.js";

export interface ScratchDatabase {
  url: string;
  name: string;
  /** A short-lived connection to it. */
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

async function onServer<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {}); // reported by the failing query; unhandled it would crash the process
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new empty database; `create: false` only picks a name (for ensureDatabase tests). */
export async function createScratchDatabase(opts: { create?: boolean } = {}): Promise<ScratchDatabase> {
  const name = `zixly_scratch_${randomBytes(6).toString("hex")}`;
  const url = withDatabaseName(testServerUrl(), name);
  if (opts.create !== false)
    await onServer(testServerUrl(), (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return {
    url,
    name,
    query: (sql, params) => onServer(url, async (c) => (await c.query(sql, params)).rows),
    drop: () =>
      onServer(testServerUrl(), (c) =>
        c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
      ).then(() => {}),
  };
}
