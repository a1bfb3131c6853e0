/**
 * Holds a PGlite data directory in a process of its own, for the test that SIGKILLs it: opens
 * `PGLITE_DIR`, migrates, enqueues `PGLITE_MESSAGES` messages on `QUEUE_NAME`, prints
 * `enqueued`, then keeps running until killed.
 *
 * Run: node --conditions=@zixly/source --import tsx postgres-pglite-process.ts
 */
import { PGlite } from "@electric-sql/pglite";
import { createPostgresDriver } from "../postgres-driver.js";
import { migratePostgresQueue } from "../postgres-migrations.js";
import { createPglitePool } from "../postgres-pglite-pool.js";

const dir = process.env.PGLITE_DIR;
const queue = process.env.QUEUE_NAME;
const count = Number(process.env.PGLITE_MESSAGES ?? 10);
if (!dir || !queue) throw new Error("PGLITE_DIR and QUEUE_NAME are required");

const db = await PGlite.create(dir);
const pool = createPglitePool(db);
await migratePostgresQueue({ pool });
const driver = createPostgresDriver({ pool });
await driver.enqueue(
  queue,
  Array.from({ length: count }, (_, i) => ({ id: `m-${i}`, body: i })),
);
process.stdout.write("enqueued\n");
setInterval(() => undefined, 60_000);
