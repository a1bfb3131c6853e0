// The ingest floor: the least any receiver can do that durably stores and enqueues each request
// on this machine. Express 5 takes the raw body, concurrent requests share one multi-row INSERT
// (group commit, like the receiver's inbox) of (id, payload jsonb) into one table with only its
// primary key, then one BullMQ addBulk of their ids; 202 once both are done. No signature, no
// parsing in Node, no tenants, no job rows, no logging: a receiver cannot be cheaper than this
// with the same durability, so the gap between it and bare Express is set by Postgres and Redis.
import { randomUUID } from "node:crypto";
import { createBatcher } from "@zixly/core";
import { Queue } from "bullmq";
import express from "express";
import { Redis } from "ioredis";
import pg from "pg";

const TABLE = "bench_floor_events";
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 8 });
const queue = new Queue("floor", {
  connection: new Redis(process.env.REDIS_URL ?? "", { maxRetriesPerRequest: null }),
  prefix: process.env.FLOOR_PREFIX,
});
// FLOOR_JOBS=1 (the pipeline floor): each request also gets a job row, in the same statement,
// that the worker floor (`raw-bullmq.ts` with RAW_FLOOR=1) claims and completes.
const withJobs = process.env.FLOOR_JOBS === "1";
await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id uuid PRIMARY KEY, payload jsonb NOT NULL)`);
const insert = withJobs
  ? `WITH e AS (INSERT INTO ${TABLE} (id, payload) SELECT * FROM unnest($1::uuid[], $2::jsonb[]) RETURNING id)
     INSERT INTO bench_floor_jobs (id) SELECT id FROM e`
  : `INSERT INTO ${TABLE} (id, payload) SELECT * FROM unnest($1::uuid[], $2::jsonb[])`;

const store = createBatcher<{ id: string; body: string }, void>({
  maxBatch: 200,
  maxInFlight: 4,
  run: async (items) => {
    await pool.query({
      name: "floor_insert",
      text: insert,
      values: [items.map((i) => i.id), items.map((i) => i.body)],
    });
    await queue.addBulk(
      items.map((i) => ({
        name: "job",
        data: { jobId: i.id },
        opts: { jobId: i.id, removeOnComplete: true },
      })),
    );
    return items.map(() => undefined);
  },
});

const app = express();
app.post("/webhooks/:id", express.raw({ type: () => true, limit: "1mb" }), async (req, res) => {
  const id = randomUUID();
  await store.add({ id, body: (req.body as Buffer).toString("utf8") });
  res.status(202).json({ eventIds: [id], jobIds: [id] });
});
app.get("/health", (_req, res) => {
  res.json({ status: "ok" });
});
app.listen(Number(process.env.PORT ?? 0), "127.0.0.1");
