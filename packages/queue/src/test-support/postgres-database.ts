/**
 * Scratch databases for the Postgres queue tests, on the shared server (`TEST_DATABASE_URL`,
 * default the local one). Each test file gets a database of its own and drops it; nothing on
 * the server is stopped or changed otherwise.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

/** The maintenance database of the server the tests use. */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function admin<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A database of its own; `drop()` ends its sessions and removes it. */
export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Create an empty database `zixly_queue_test_<random>` on the server of `serverUrl`. */
export async function createScratchDatabase(serverUrl = TEST_DATABASE_URL): Promise<ScratchDatabase> {
  const name = `zixly_queue_test_${randomBytes(6).toString("hex")}`;
  await admin(serverUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop() {
      dropped ??= admin(serverUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
      return dropped;
    },
  };
}
