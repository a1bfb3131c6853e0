/**
 * How fast the Postgres driver drains a queue, next to the BullMQ (Redis) driver. Not a test:
 * a measurement to run by hand and copy into `docs/postgres-queue.md`.
 *
 *   node --conditions=@zixly/source --import tsx packages/queue/src/test-support/postgres-throughput.ts
 *
 * Env: `JOBS` (default 5000), `RUNS` per cell (default 3, the median is reported),
 * `CONCURRENCY` (default "1,10,50"), `BACKENDS` (default "redis,postgres,pglite"),
 * `PG_POOL_SIZE` (the Postgres driver's `poolSize`, default 10), `TEST_REDIS_URL`,
 * `TEST_DATABASE_URL`. For each backend and concurrency it enqueues `JOBS`
 * no-op messages (batches of 500), then starts one consumer and times until the last one is
 * acked. Everything it creates (Redis keys, a scratch database, a PGlite directory) is removed.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { createBullmqDriver } from "../bullmq-driver.js";
import { createPostgresDriver } from "../postgres-driver.js";
import { migratePostgresQueue } from "../postgres-migrations.js";
import { createPglitePool } from "../postgres-pglite-pool.js";
import type { QueueDriver } from "../queue-driver.js";
import { createScratchDatabase } from "./postgres-database.js";
import { deleteKeysWithPrefix, TEST_REDIS_URL } from "./redis-keys.js";

const JOBS = Number(process.env.JOBS ?? 5_000);
const RUNS = Number(process.env.RUNS ?? 3);
const CONCURRENCY = (process.env.CONCURRENCY ?? "1,10,50").split(",").map(Number);
const BACKENDS = (process.env.BACKENDS ?? "redis,postgres,pglite").split(",");
const PG_POOL_SIZE = Number(process.env.PG_POOL_SIZE ?? 10);
const BATCH = 500;

interface Sample {
  enqueuePerSecond: number;
  drainPerSecond: number;
}

/** Enqueue `JOBS` messages, then drain them with one consumer; returns both rates. */
async function measure(driver: QueueDriver, concurrency: number): Promise<Sample> {
  const queue = `bench-${randomUUID()}`;
  const enqueueStart = performance.now();
  for (let offset = 0; offset < JOBS; offset += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, JOBS - offset) }, (_, i) => `job-${offset + i}`);
    await driver.enqueue(
      queue,
      ids.map((id) => ({ id, body: { id } })),
    );
  }
  const enqueueMs = performance.now() - enqueueStart;
  let acked = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const drainStart = performance.now();
  const consumer = driver.consume(
    queue,
    async () => {
      acked += 1;
      if (acked === JOBS) finish();
    },
    { concurrency },
  );
  await done;
  // The last ack is written once the handler has returned; stop() waits for it.
  await consumer.stop();
  const drainMs = performance.now() - drainStart;
  const depth = await driver.depth(queue);
  if (depth.waiting + depth.active + depth.delayed + depth.dead !== 0) {
    throw new Error(`queue not empty after the drain: ${JSON.stringify(depth)}`);
  }
  return { enqueuePerSecond: (JOBS / enqueueMs) * 1_000, drainPerSecond: (JOBS / drainMs) * 1_000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Backend {
  name: string;
  open(): Promise<{ driver: QueueDriver; dispose(): Promise<void>; stats?(): Promise<string> }>;
}

const backends: Record<string, Backend> = {
  redis: {
    name: "Redis 7 (BullMQ driver)",
    async open() {
      const prefix = `zixly-bench-${randomUUID()}`;
      const driver = createBullmqDriver({ connection: TEST_REDIS_URL, prefix });
      return {
        driver,
        async dispose() {
          await driver.close();
          await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
        },
      };
    },
  },
  postgres: {
    name: `PostgreSQL 15 (Postgres driver, poolSize ${PG_POOL_SIZE})`,
    async open() {
      const db = await createScratchDatabase();
      await migratePostgresQueue({ connectionString: db.url });
      const driver = createPostgresDriver({ connectionString: db.url, poolSize: PG_POOL_SIZE });
      return {
        driver,
        async dispose() {
          await driver.close();
          await db.drop();
        },
        async stats() {
          // Sessions flush their statistics when they end: close the driver first, then wait a bit.
          await driver.close();
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          const client = new pg.Client({ connectionString: db.url });
          await client.connect();
          try {
            const { rows } = await client.query<Record<string, string>>(
              `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, n_live_tup, n_dead_tup
                 FROM pg_stat_user_tables
                WHERE schemaname = 'zixly_queue' AND relname IN ('job', 'event') ORDER BY relname`,
            );
            return rows
              .map(
                (r) =>
                  `${r.relname}: ${r.n_tup_ins} ins, ${r.n_tup_upd} upd (${r.n_tup_hot_upd} HOT), ${r.n_tup_del} del, ${r.n_live_tup} live, ${r.n_dead_tup} dead`,
              )
              .join("; ");
          } finally {
            await client.end();
          }
        },
      };
    },
  },
  pglite: {
    name: "PGlite 0.4 in-process (Postgres driver over the pool adapter)",
    async open() {
      const dir = await mkdtemp(path.join(tmpdir(), "zixly-bench-pglite-"));
      const db = await PGlite.create(path.join(dir, "data"));
      const pool = createPglitePool(db, { schema: "zixly_queue" });
      await migratePostgresQueue({ pool });
      const driver = createPostgresDriver({ pool });
      return {
        driver,
        async dispose() {
          await driver.close();
          await pool.end();
          await db.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
};

async function main(): Promise<void> {
  console.log(`# ${JOBS} no-op jobs, ${RUNS} run(s) per cell, median jobs/s (node ${process.version})`);
  for (const key of BACKENDS) {
    const backend = backends[key];
    if (!backend) throw new Error(`unknown backend ${key}`);
    for (const concurrency of CONCURRENCY) {
      const samples: Sample[] = [];
      let stats = "";
      for (let run = 0; run < RUNS; run++) {
        const { driver, dispose, stats: readStats } = await backend.open();
        try {
          samples.push(await measure(driver, concurrency));
          if (readStats && run === 0) stats = await readStats();
        } finally {
          await dispose();
        }
      }
      const drains = samples.map((s) => Math.round(s.drainPerSecond));
      const enqueues = samples.map((s) => Math.round(s.enqueuePerSecond));
      console.log(
        `${backend.name} | concurrency ${concurrency} | drain ${Math.round(median(drains))} jobs/s (runs ${drains.join(", ")}) | enqueue ${Math.round(median(enqueues))} jobs/s${stats ? ` | ${stats}` : ""}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
