// The worker baseline: plain BullMQ draining no-op jobs already in the queue, with the same
// concurrency as the Zixly worker, on the same Redis (or, with RAW_BACKEND=postgres, on BullMQ's
// PostgreSQL backend in the bench database). Prints one JSON line with the drain's figures.
import { createServer } from "node:http";
import { createPostgresBackend, type Job, Worker } from "bullmq";
import { Redis } from "ioredis";

const count = Number(process.env.RAW_COUNT);
const concurrency = Number(process.env.RAW_CONCURRENCY);
const queueName = "raw";
let first = 0;
let firstCpu = process.cpuUsage();
let done = 0;
const processor = async (_job: Job) => {
  if (!first) {
    first = performance.now();
    firstCpu = process.cpuUsage();
  }
};

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
