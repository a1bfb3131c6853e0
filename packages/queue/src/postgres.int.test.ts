// The shared queue contract against the Postgres driver on the real PostgreSQL server: one
// scratch database for this file (dropped at the end), one schema per test.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { describeQueueDriver } from "./driver.contract.js";
import { createPostgresDriver } from "./postgres-driver.js";
import { migratePostgresQueue } from "./postgres-migrations.js";
import { createScratchDatabase, type ScratchDatabase } from "./test-support/postgres-database.js";

const LEASE_MS = 2_000;

let db: ScratchDatabase;

beforeAll(async () => {
  db = await createScratchDatabase();
});

afterAll(async () => {
  await db?.drop();
});

describeQueueDriver(
  "postgres",
  async () => {
    const schema = `q_${randomBytes(6).toString("hex")}`;
    await migratePostgresQueue({ connectionString: db.url, schema });
    const driver = createPostgresDriver({
      connectionString: db.url,
      schema,
      poolSize: 4,
      lockDurationMs: LEASE_MS,
      stalledIntervalMs: 500,
    });
    return {
      driver,
      async cleanup() {
        await driver.close({ timeoutMs: 2_000 });
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      },
    };
  },
  { leaseMs: LEASE_MS },
);
