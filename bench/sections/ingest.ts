// Ingest: the receiver's POST /webhooks/:id under 50 connections of signed, unique deliveries,
// against a bare Express 5 endpoint in the same run. No worker runs, so nothing else competes
// with the receiver for the two cores but Postgres, Redis and the load generator.
import { closedLoop } from "../lib/load.js";
import { cpuSeconds, startBenchServer } from "../lib/procs.js";
import { cpuMeter, deletePrefix, REDIS_URL, type Stack } from "../lib/stack.js";
import { log, round, sleep, waitFor } from "../lib/util.js";

export async function ingestSection(
  stack: Stack,
  cfg: { durationS: number; warmupS: number; connections: number },
) {
  const { connections } = cfg;

  // Baseline: bare Express, same load generator, same signed bodies.
  const { proc: bare, url: bareOrigin } = await startBenchServer(stack.logDir, "bare", "bare.ts", {});
  const bareUrl = `${bareOrigin}/webhooks/00000000-0000-4000-8000-000000000000`;
  await closedLoop({ url: bareUrl, secret: stack.secret, connections, durationS: cfg.warmupS });
  const bareCpu = cpuSeconds(bare.pid);
  const baseline = await closedLoop({
    url: bareUrl,
    secret: stack.secret,
    connections,
    durationS: cfg.durationS,
  });
  const bareCpuMsPerRequest = ((cpuSeconds(bare.pid) - bareCpu) * 1000) / baseline.accepted;
  await bare.stop();
  log(`ingest baseline (bare Express 5): ${baseline.rps} req/s, p99 ${baseline.p99Ms} ms`);

  const floor = await durableFloor(stack, cfg);
  log(
    `ingest floor (Express + group-committed INSERT + BullMQ addBulk): ${floor.rps} req/s, p99 ${floor.p99Ms} ms`,
  );

  const prefix = stack.newPrefix("ingest");
  await stack.reset(prefix);
  const receiver = await stack.startReceiver("bullmq", prefix);
  await sleep(2_000);
  const idleRssMb = receiver.peakRssMb();
  await closedLoop({ url: receiver.webhookUrl, secret: stack.secret, connections, durationS: cfg.warmupS });
  await settle(stack);
  const before = await stack.count();
  receiver.resetPeak();
  const receiverCpu = cpuSeconds(receiver.pid);
  const cpu = cpuMeter(async () => {
    const pgPids = await stack.postgresPids();
    return {
      receiver: [receiver.pid],
      loadgen: [process.pid],
      postgres: pgPids.backends,
      "postgres-aux": pgPids.aux,
      redis: [await stack.redisPid()],
    };
  });
  await cpu.start();
  const run = await closedLoop({
    url: receiver.webhookUrl,
    secret: stack.secret,
    connections,
    durationS: cfg.durationS,
  });
  const cpuUse = await cpu.stop();
  const receiverCpuSeconds = cpuSeconds(receiver.pid) - receiverCpu;
  const loadRssMb = receiver.peakRssMb();
  const after = await settle(stack);
  await receiver.stop();

  // Every accepted request is one stored event with one job, all handed to the queue. Requests
  // still in flight when the generator stopped (≤ connections) may be stored without a counted answer.
  const stored = after.events - before.events;
  const queued = await queueLength(stack, prefix);
  const check = {
    acceptedResponses: run.accepted,
    storedEvents: stored,
    jobs: after.jobs - before.jobs,
    unanswered: stored - run.accepted,
    queuedInRedis: queued,
    /** Queue messages beyond one per job: the outbox relay re-sent jobs whose enqueue marker was late. */
    duplicateMessages: queued - after.jobs,
    refused: run.non2xx,
    errors: run.errors,
    ok:
      stored - run.accepted >= 0 &&
      stored - run.accepted <= connections &&
      after.jobs === after.events &&
      queued >= after.jobs,
  };
  log(
    `ingest receiver: ${run.rps} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms; check ${JSON.stringify(check)}`,
  );
  return {
    ratio: round(run.rps / baseline.rps, 3),
    /** The durable floor's share of bare Express, and the receiver's share of the floor. */
    floor: {
      ...floor,
      ratio: round(floor.rps / baseline.rps, 3),
      receiverShare: round(run.rps / floor.rps, 3),
    },
    rps: run.rps,
    baselineRps: baseline.rps,
    p50Ms: run.p50Ms,
    p99Ms: run.p99Ms,
    baselineP50Ms: baseline.p50Ms,
    baselineP99Ms: baseline.p99Ms,
    // CPU per request: what other load on a shared machine changes least.
    cpuMsPerRequest: round((receiverCpuSeconds * 1000) / Math.max(1, stored), 2),
    baselineCpuMsPerRequest: round(bareCpuMsPerRequest, 3),
    connections,
    durationS: cfg.durationS,
    bodyBytes: 2194,
    check,
    cpuCores: cpuUse.cores,
    machineBusy: cpuUse.machineBusy,
    rssMb: { receiverIdle: round(idleRssMb), receiverLoad: round(loadRssMb) },
  };
}

/**
 * The same load against `servers/durable-floor.ts`: what storing and enqueuing each request
 * costs on this machine with nothing else done, so the ratio target can be read against it.
 */
async function durableFloor(stack: Stack, cfg: { durationS: number; warmupS: number; connections: number }) {
  const prefix = stack.newPrefix("floor");
  const { proc, url: origin } = await startBenchServer(stack.logDir, "floor", "durable-floor.ts", {
    DATABASE_URL: stack.dbUrl,
    REDIS_URL,
    FLOOR_PREFIX: prefix,
  });
  try {
    const url = `${origin}/webhooks/00000000-0000-4000-8000-000000000000`;
    await closedLoop({ url, secret: stack.secret, connections: cfg.connections, durationS: cfg.warmupS });
    const { rows: before } = await stack.sql.query("SELECT count(*)::int AS n FROM bench_floor_events");
    const cpu = cpuSeconds(proc.pid);
    const run = await closedLoop({
      url,
      secret: stack.secret,
      connections: cfg.connections,
      durationS: cfg.durationS,
    });
    const cpuMs = (cpuSeconds(proc.pid) - cpu) * 1000;
    await sleep(500);
    const { rows: after } = await stack.sql.query("SELECT count(*)::int AS n FROM bench_floor_events");
    const stored = after[0].n - before[0].n;
    return {
      rps: run.rps,
      p50Ms: run.p50Ms,
      p99Ms: run.p99Ms,
      cpuMsPerRequest: round(cpuMs / Math.max(1, stored), 3),
      /** Every accepted answer is a stored row (in-flight ones at the cut-off may have no answer). */
      storedOk: stored >= run.accepted && stored - run.accepted <= cfg.connections,
    };
  } finally {
    await proc.stop();
    await stack.sql.query("DROP TABLE IF EXISTS bench_floor_events");
    await deletePrefix(stack.redis, prefix);
  }
}

/** Waits until the inbox stops growing and every job has been handed to the queue. */
async function settle(stack: Stack) {
  return waitFor(
    "ingest to settle",
    async () => {
      const { rows } = await stack.sql.query("SELECT count(*)::int AS n FROM jobs WHERE enqueued_at IS NULL");
      return rows[0].n === 0 ? stack.count() : undefined;
    },
    30_000,
    250,
  );
}

/** Messages waiting in the BullMQ queue `jobs` under `prefix` (plain and prioritised). */
export async function queueLength(stack: Stack, prefix: string): Promise<number> {
  const [wait, prioritized] = await Promise.all([
    stack.redis.llen(`${prefix}:jobs:wait`),
    stack.redis.zcard(`${prefix}:jobs:prioritized`),
  ]);
  return wait + prioritized;
}
