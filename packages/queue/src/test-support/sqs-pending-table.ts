/** A pending-id table of a test's own in the test Postgres (`TEST_DATABASE_URL`). */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { createPgPendingIdStore, type PendingIdStore, pendingIdsTableSql } from "../sqs-pending-ids.js";

/** Postgres for the pending-id tables (the shared test server's maintenance database by default). */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** A fresh table, its store, and the pool it uses. */
export interface TestPendingIds {
  store: PendingIdStore;
  table: string;
  pool: pg.Pool;
  /** Drop the table and close the pool. */
  dispose(): Promise<void>;
}

/** Create a fresh pending-id table (dropped by `dispose`). */
export async function createTestPendingIds(): Promise<TestPendingIds> {
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  const table = `zixly_test_pending_ids_${randomUUID().replaceAll("-", "")}`;
  await pool.query(pendingIdsTableSql(table));
  return {
    store: createPgPendingIdStore({ query: (text, values) => pool.query(text, values), table }),
    table,
    pool,
    async dispose() {
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    },
  };
}
