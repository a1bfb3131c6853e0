// Worker throughput: N accepted events already in the inbox and the queue (sent through the real
// receiver, which is then stopped), drained by one worker process to COMPLETED with full job
// state in Postgres; against plain BullMQ draining N no-op jobs with the same concurrency on the
// same backend, in the same run.
import { randomUUID } from "node:crypto";
import { createPostgresBackend, Queue } from "bullmq";
import { Redis } from "ioredis";
import { sampleActivity } from "../lib/activity.js";
import { closedLoop } from "../lib/load.js";
import { cpuSeconds, freePort, logPath, spawnNode, waitHealthy } from "../lib/procs.js";
import { cpuMeter, deletePrefix, type QueueDriverName, REDIS_URL, type Stack } from "../lib/stack.js";
import { log, round, waitFor } from "../lib/util.js";

export async function workerSection(
  stack: Stack,
  driver: QueueDriverName,
  cfg: { events: number; concurrency: number },
) {
  const { events, concurrency } = cfg;
  const baseline = await rawDrain(stack, driver, events, concurrency);
  log(`worker baseline (${driver}): raw BullMQ ${round(baseline.jobsPerSec)} jobs/s`);
  const floor = driver === "bullmq" ? await rawDrain(stack, driver, events, concurrency, true) : undefined;
  if (floor) log(`worker floor (raw BullMQ + claim/complete UPDATEs): ${round(floor.jobsPerSec)} jobs/s`);

  // Fill: N signed deliveries through the receiver, then no receiver at all during the drain.
  const prefix = stack.newPrefix(`worker-${driver}`);
  await stack.reset(prefix);
  const receiver = await stack.startReceiver(driver, prefix);
  // Like a sender, deliver again what was refused (5xx) until exactly `events` are accepted.
  let accepted = 0;
  let refused = 0;
  const fillStart = performance.now();
  while (accepted < events) {
    const run = await closedLoop({
      url: receiver.webhookUrl,
      secret: stack.secret,
      connections: 50,
      amount: events - accepted,
    });
    accepted += run.accepted;
    refused += run.non2xx + run.errors;
  }
  const fill = { accepted, refused, rps: round(accepted / ((performance.now() - fillStart) / 1000)) };
  await waitFor(
    "every job handed to the queue",
    async () =>
      (await stack.sql.query("SELECT count(*)::int AS n FROM jobs WHERE enqueued_at IS NULL")).rows[0].n ===
      0,
    60_000,
    250,
  );
  await receiver.stop();
  const filled = await stack.count();
  // With QUEUE_DRIVER=postgres nothing may reach Redis: otherwise the apps ignored the setting.
  const redisKeys = driver === "postgres" ? await deletePrefix(stack.redis, prefix, true) : 0;
  log(
    `worker fill: ${accepted} accepted (${refused} refused and resent) → ${filled.events} events, ${filled.jobs} jobs`,
  );

  const cpu = cpuMeter(async () => {
    const pgPids = await stack.postgresPids();
    return {
      worker: workerPids,
      postgres: pgPids.backends,
      "postgres-aux": pgPids.aux,
      redis: [await stack.redisPid()],
    };
  });
  const workerPids: number[] = [];
  const activity = sampleActivity(stack.sql, stack.dbName);
  await cpu.start();
  const worker = await stack.startWorker(driver, prefix, concurrency);
  workerPids.push(worker.pid);
  // CPU per job from here on (start-up excluded): the one figure other load on the machine barely moves.
  const cpuAtStart = cpuSeconds(worker.pid);
  const doneAtStart = (await stack.count()).completed;
  // Drained when nothing is left; a drain that makes no progress for 60 s is an error, not a result.
  let progress = { unfinished: Number.POSITIVE_INFINITY, at: Date.now() };
  await waitFor(
    "the worker to drain the queue",
    async () => {
      const unfinished = await stack.unfinished();
      if (unfinished < progress.unfinished) progress = { unfinished, at: Date.now() };
      else if (Date.now() - progress.at > 60_000) {
        throw new Error(
          `worker stuck with ${unfinished}/${events} jobs unfinished for 60 s; see ${stack.logDir}`,
        );
      }
      return unfinished === 0;
    },
    30 * 60_000,
    200,
  );
  const cpuUse = await cpu.stop();
  const workerCpuMsPerJob =
    ((cpuSeconds(worker.pid) - cpuAtStart) * 1000) / Math.max(1, events - doneAtStart);
  const pgActivity = await activity.stop();
  const peakRssMb = worker.peakRssMb();
  await worker.stop();

  // Full job state: every job COMPLETED with its timestamps, one attempt, its step memo stored.
  const { rows } = await stack.sql.query(`SELECT
      count(*)::int AS completed,
      count(*) FILTER (WHERE started_at IS NOT NULL AND completed_at IS NOT NULL AND attempts = 1)::int AS complete_state,
      (SELECT count(*)::int FROM job_steps WHERE status = 'COMPLETED' AND output IS NOT NULL) AS steps,
      extract(epoch FROM max(completed_at) - min(started_at))::float8 AS seconds
    FROM jobs WHERE status = 'COMPLETED'`);
  const r = rows[0];
  const jobsPerSec = events / r.seconds;
  const check = {
    accepted: fill.accepted,
    events: filled.events,
    completed: r.completed,
    withFullState: r.complete_state,
    stepMemos: r.steps,
    redisKeysOfPostgresRun: redisKeys,
    ok:
      redisKeys === 0 &&
      fill.accepted === events &&
      filled.events === events &&
      r.complete_state === events &&
      r.steps === events,
  };
  log(`worker (${driver}): ${round(jobsPerSec)} jobs/s; check ${JSON.stringify(check)}`);
  await stack.reset(prefix);
  return {
    driver,
    ratio: round(jobsPerSec / baseline.jobsPerSec, 3),
    /** The Postgres floor's share of raw BullMQ, and the worker's share of the floor. */
    floor: floor && {
      jobsPerSec: round(floor.jobsPerSec),
      ratio: round(floor.jobsPerSec / baseline.jobsPerSec, 3),
      workerShare: round(jobsPerSec / floor.jobsPerSec, 3),
      cpuMsPerJob: round(floor.cpuMsPerJob, 3),
    },
    jobsPerSec: round(jobsPerSec),
    baselineJobsPerSec: round(baseline.jobsPerSec),
    // CPU per job is what contention on a shared machine changes least: compare these too.
    workerCpuMsPerJob: round(workerCpuMsPerJob, 2),
    baselineCpuMsPerJob: round(baseline.cpuMsPerJob, 3),
    events,
    concurrency,
    fillRps: fill.rps,
    fillRefused: fill.refused,
    check,
    cpuCores: cpuUse.cores,
    machineBusy: cpuUse.machineBusy,
    workerPeakRssMb: round(peakRssMb),
    baselinePeakRssMb: round(baseline.peakRssMb),
    postgresActivity: pgActivity,
  };
}

/** The floors' job rows (`RAW_FLOOR=1` claims and completes them), created anew. */
export async function createFloorJobsTable(stack: Stack): Promise<void> {
  await stack.sql.query(`DROP TABLE IF EXISTS bench_floor_jobs;
    CREATE TABLE bench_floor_jobs (id uuid PRIMARY KEY, status text NOT NULL DEFAULT 'QUEUED',
      started_at timestamptz, completed_at timestamptz, result jsonb)`);
}

/**
 * Plain BullMQ: enqueue `count` no-op jobs, then time a separate process draining them. With
 * `floor`, each job also has a row that the drain claims and completes (`RAW_FLOOR`).
 */
async function rawDrain(
  stack: Stack,
  driver: QueueDriverName,
  count: number,
  concurrency: number,
  floor = false,
) {
  const prefix = stack.newPrefix(`raw-${driver}${floor ? "-floor" : ""}`);
  if (floor) {
    await createFloorJobsTable(stack);
  }
  const redis = driver === "bullmq" ? new Redis(REDIS_URL, { maxRetriesPerRequest: null }) : undefined;
  const queue = redis
    ? new Queue("raw", { connection: redis, prefix })
    : new Queue(
        "raw",
        { connection: { connectionString: stack.dbUrl, schema: "bench_raw", migrate: true } },
        createPostgresBackend,
      );
  for (let i = 0; i < count; i += 1000) {
    const n = Math.min(1000, count - i);
    const ids = Array.from({ length: n }, () => randomUUID());
    if (floor) await stack.sql.query("INSERT INTO bench_floor_jobs (id) SELECT unnest($1::uuid[])", [ids]);
    await queue.addBulk(
      ids.map((jobId) => {
        return {
          name: "message",
          data: { jobId, tenantId: jobId, workflow: "noop" },
          opts: { jobId, attempts: 5, removeOnComplete: true, removeOnFail: false },
        };
      }),
    );
  }
  await queue.close();
  redis?.disconnect();

  const port = await freePort();
  const file = logPath(stack.logDir, `raw-${driver}`);
  const proc = spawnNode(
    `raw-${driver}`,
    ["--import", "tsx", "bench/servers/raw-bullmq.ts"],
    {
      PORT: String(port),
      REDIS_URL,
      DATABASE_URL: stack.dbUrl,
      RAW_BACKEND: driver === "bullmq" ? "redis" : "postgres",
      RAW_PREFIX: prefix,
      RAW_COUNT: String(count),
      RAW_CONCURRENCY: String(concurrency),
      RAW_FLOOR: floor ? "1" : "0",
    },
    file,
  );
  await waitHealthy(proc, `http://127.0.0.1:${port}/`, file).catch(() => undefined);
  await proc.closed;
  const peakRssMb = proc.peakRssMb();
  await proc.stop();
  const line = proc
    .output()
    .split("\n")
    .find((l) => l.startsWith('{"done"'));
  if (!line) throw new Error(`raw BullMQ drain printed no result; see ${file}`);
  if (floor) {
    const { rows } = await stack.sql.query(
      "SELECT count(*) FILTER (WHERE status = 'COMPLETED' AND started_at IS NOT NULL)::int AS n FROM bench_floor_jobs",
    );
    await stack.sql.query("DROP TABLE bench_floor_jobs");
    if (rows[0].n !== count) throw new Error(`worker floor completed ${rows[0].n} of ${count} rows`);
  }
  return { ...(JSON.parse(line) as { jobsPerSec: number; cpuMsPerJob: number }), peakRssMb };
}
