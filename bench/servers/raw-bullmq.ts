// The worker baseline: plain BullMQ draining no-op jobs already in the queue, with the same
// concurrency as the Zixly worker, on the same Redis (or, with RAW_BACKEND=postgres, on BullMQ's
// PostgreSQL backend in the bench database). Prints one JSON line with the drain's figures.
import { createServer } from "node:http";
import { createBatcher } from "@zixly/core";
import { createPostgresBackend, type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";

const count = Number(process.env.RAW_COUNT);
const concurrency = Number(process.env.RAW_CONCURRENCY);
// RAW_COUNT=0: run until stopped (the pipeline floor); RAW_QUEUE: the queue to drain.
const queueName = process.env.RAW_QUEUE ?? "raw";
let first = 0;
let firstCpu = process.cpuUsage();
let done = 0;
// RAW_FLOOR=1: the worker floor — the same drain, but each job's row in `bench_floor_jobs` is
// claimed (RUNNING, started_at) and completed (COMPLETED, completed_at, result) by group-committed
// UPDATEs, as any worker keeping job state in Postgres must at least do. No workflow, no memo.
const floor = process.env.RAW_FLOOR === "1" ? floorWrites() : undefined;
const processor = async (job: Job) => {
  if (!first) {
    first = performance.now();
    firstCpu = process.cpuUsage();
  }
  if (floor) {
    const id = (job.data as { jobId: string }).jobId;
    await floor.claim.add(id);
    await floor.complete.add(id);
  }
};

function floorWrites() {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
  const update = (name: string, set: string) =>
    createBatcher<string, void>({
      maxBatch: 100,
      maxInFlight: 2,
      run: async (ids) => {
        await pool.query({
          name,
          text: `UPDATE bench_floor_jobs SET ${set} WHERE id = ANY($1::uuid[])`,
          values: [ids],
        });
        return ids.map(() => undefined);
      },
    });
  return {
    claim: update("floor_claim", "status = 'RUNNING', started_at = now()"),
    complete: update("floor_complete", "status = 'COMPLETED', completed_at = now(), result = '{}'"),
  };
}

const worker =
  process.env.RAW_BACKEND === "postgres"
    ? new Worker(
        queueName,
        processor,
        { connection: { connectionString: process.env.DATABASE_URL, schema: "bench_raw" }, concurrency },
        createPostgresBackend,
      )
    : new Worker(queueName, processor, {
        connection: new Redis(process.env.REDIS_URL ?? "", { maxRetriesPerRequest: null }),
        prefix: process.env.RAW_PREFIX,
        concurrency,
      });
worker.on("completed", () => {
  if (++done === count) {
    const seconds = (performance.now() - first) / 1000;
    const cpu = process.cpuUsage(firstCpu);
    const cpuMsPerJob = (cpu.user + cpu.system) / 1000 / done;
    console.log(JSON.stringify({ done, seconds, jobsPerSec: done / seconds, cpuMsPerJob }));
    void worker.close().then(() => process.exit(0));
  }
});
worker.on("error", (err) => console.error(err));
// Ready signal for the bench (same /health probe as the worker's).
createServer((_req, res) => res.end("ok")).listen(Number(process.env.PORT));
