// The end-to-end floor: the ingest floor (`servers/durable-floor.ts` with FLOOR_JOBS=1: one
// INSERT of the event and its job row per batch, BullMQ addBulk, 202) feeding the worker floor
// (`servers/raw-bullmq.ts` with RAW_FLOOR=1: claim and completion UPDATEs per batch), driven like
// the capacity run. What it completes per second, and its CPU per webhook, is what this machine
// allows any pipeline with the same durability; the sustained target can be read against it.
import { paced } from "../lib/load.js";
import { startBenchServer } from "../lib/procs.js";
import { cpuMeter, REDIS_URL, type Stack } from "../lib/stack.js";
import { log, round, sleep } from "../lib/util.js";
import { createFloorJobsTable } from "./worker.js";

export async function pipelineFloor(
  stack: Stack,
  cfg: { capacityS: number; warmupS: number; concurrency: number },
) {
  const prefix = stack.newPrefix("pipeline-floor");
  await stack.sql.query("DROP TABLE IF EXISTS bench_floor_events");
  await createFloorJobsTable(stack);
  const connection = { DATABASE_URL: stack.dbUrl, REDIS_URL };
  const receiver = await startBenchServer(stack.logDir, "floor-receiver", "durable-floor.ts", {
    ...connection,
    FLOOR_PREFIX: prefix,
    FLOOR_JOBS: "1",
  });
  const worker = await startBenchServer(
    stack.logDir,
    "floor-worker",
    "raw-bullmq.ts",
    {
      ...connection,
      RAW_BACKEND: "redis",
      RAW_PREFIX: prefix,
      RAW_QUEUE: "floor",
      RAW_COUNT: "0",
      RAW_CONCURRENCY: String(cfg.concurrency),
      RAW_FLOOR: "1",
    },
    "/",
  ).catch(async (err: unknown) => {
    await receiver.proc.stop();
    throw err;
  });
  try {
    const url = `${receiver.url}/webhooks/00000000-0000-4000-8000-000000000000`;
    const load = (seconds: number) =>
      paced({
        url,
        secret: stack.secret,
        rate: Number.POSITIVE_INFINITY,
        durationMs: seconds * 1000,
        maxInFlight: 50,
      });
    await load(cfg.warmupS);
    await sleep(1_000);
    const cpu = cpuMeter(async () => {
      const pgPids = await stack.postgresPids();
      return {
        receiver: [receiver.proc.pid],
        workers: [worker.proc.pid],
        loadgen: [process.pid],
        postgres: pgPids.backends,
        "postgres-aux": pgPids.aux,
        redis: [await stack.redisPid()],
      };
    });
    const completed = async () =>
      Number(
        (
          await stack.sql.query(
            "SELECT count(*) FILTER (WHERE completed_at IS NOT NULL)::int AS n FROM bench_floor_jobs",
          )
        ).rows[0].n,
      );
    const before = await completed();
    await cpu.start();
    const run = await load(cfg.capacityS);
    const after = await completed();
    const cpuUse = await cpu.stop();
    const completedPerSec = round((after - before) / cfg.capacityS);
    const parts = Object.entries(cpuUse.cores).filter(([k]) => k !== "other" && k !== "loadgen");
    const cpuMsPerWebhook = Object.fromEntries(
      parts.map(([k, v]) => [k, round((v * 1000) / Math.max(1, completedPerSec), 2)]),
    );
    const totalMs = parts.reduce((sum, [, v]) => sum + (v * 1000) / Math.max(1, completedPerSec), 0);
    const result = {
      ingestRps: round(run.accepted / cfg.capacityS),
      completedPerSec,
      httpP99Ms: run.p99Ms,
      cpuCores: cpuUse.cores,
      machineBusy: cpuUse.machineBusy,
      cpuMsPerWebhook: { ...cpuMsPerWebhook, total: round(totalMs, 2) },
      /** Webhooks/s two cores could carry with nothing but the floor pipeline running. */
      projectedOn2Cores: Math.round(2000 / totalMs),
    };
    log(
      `pipeline floor: ingest ${result.ingestRps}/s, completed ${completedPerSec}/s, ` +
        `${result.cpuMsPerWebhook.total} ms CPU per webhook`,
    );
    return result;
  } finally {
    await Promise.all([receiver.proc.stop(), worker.proc.stop()]);
    await stack.sql.query("DROP TABLE IF EXISTS bench_floor_jobs, bench_floor_events");
  }
}
