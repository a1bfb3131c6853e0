// End to end: signed webhooks → receiver → queue → worker(s) → Postgres, all as real processes.
// - capacity: 50 connections as fast as the receiver answers, to find the most the pipeline
//   completes per second with 1, 2 and 4 worker processes (the scale-out curve), and what
//   saturates (CPU per process group, Redis, Postgres sessions and their waits);
// - sustained: a steady rate for a whole window, accepted only if the backlog does not grow.
import { type ActivityReport, sampleActivity } from "../lib/activity.js";
import { paced } from "../lib/load.js";
import { cpuMeter, type QueueDriverName, type Stack } from "../lib/stack.js";
import { log, round, sleep, slope, waitFor } from "../lib/util.js";

export interface PipelineConfig {
  /** Worker slots across all worker processes (split evenly between them). */
  totalConcurrency: number;
  capacityS: number;
  warmupS: number;
}

async function startPipeline(
  stack: Stack,
  driver: QueueDriverName,
  workers: number,
  cfg: PipelineConfig,
  label: string,
) {
  const prefix = stack.newPrefix(label);
  await stack.reset(prefix);
  const receiver = await stack.startReceiver(driver, prefix);
  const perWorker = Math.ceil(cfg.totalConcurrency / workers);
  const ws: Awaited<ReturnType<Stack["startWorker"]>>[] = [];
  for (let i = 0; i < workers; i++) ws.push(await stack.startWorker(driver, prefix, perWorker));
  await sleep(2_000);
  const idle = {
    receiver: round(receiver.peakRssMb()),
    worker: round(Math.max(...ws.map((w) => w.peakRssMb()))),
  };
  const cpu = cpuMeter(async () => {
    const pgPids = await stack.postgresPids();
    return {
      receiver: [receiver.pid],
      workers: ws.map((w) => w.pid),
      loadgen: [process.pid],
      postgres: pgPids.backends,
      "postgres-aux": pgPids.aux,
      redis: driver === "bullmq" ? [await stack.redisPid()] : [],
    };
  });
  return {
    prefix,
    receiver,
    workers: ws,
    perWorker,
    idleRssMb: idle,
    cpu,
    peakRssMb: () => ({
      receiver: round(receiver.peakRssMb()),
      worker: round(Math.max(...ws.map((w) => w.peakRssMb()))),
    }),
    resetPeaks: () => {
      for (const p of [receiver, ...ws]) p.resetPeak();
    },
    async stop() {
      await stack.stopAll();
      await stack.reset(prefix);
    },
  };
}

/** The most the pipeline completes per second with `workers` worker processes, and what limits it. */
export async function capacityRun(
  stack: Stack,
  driver: QueueDriverName,
  workers: number,
  cfg: PipelineConfig,
) {
  const p = await startPipeline(stack, driver, workers, cfg, `cap-${driver}-${workers}`);
  const url = p.receiver.webhookUrl;
  await paced({
    url,
    secret: stack.secret,
    rate: Number.POSITIVE_INFINITY,
    durationMs: cfg.warmupS * 1000,
    maxInFlight: 50,
  });
  const activity = sampleActivity(stack.sql, stack.dbName);
  const before = await stack.count();
  await p.cpu.start();
  const run = await paced({
    url,
    secret: stack.secret,
    rate: Number.POSITIVE_INFINITY,
    durationMs: cfg.capacityS * 1000,
    maxInFlight: 50,
  });
  const after = await stack.count();
  const cpuUse = await p.cpu.stop();
  const pg = await activity.stop();
  await p.stop();
  const result = {
    workers,
    concurrencyPerWorker: p.perWorker,
    ingestRps: round(run.accepted / cfg.capacityS),
    completedPerSec: round((after.completed - before.completed) / cfg.capacityS),
    backlogGrowthPerSec: round((after.unfinished - before.unfinished) / cfg.capacityS),
    httpP99Ms: run.p99Ms,
    cpuCores: cpuUse.cores,
    machineBusy: cpuUse.machineBusy,
    postgresActivity: pg,
    limitedBy: "",
    cpuMsPerWebhook: {} as Record<string, number>,
    /** Webhooks/s two cores could carry if they ran only the pipeline (no load generator, nothing else). */
    projectedOn2Cores: 0,
  };
  // CPU per completed webhook of each part of the pipeline: robust to other load on the machine.
  const completed = Math.max(1, result.completedPerSec);
  const parts = Object.entries(cpuUse.cores).filter(([k]) => k !== "other" && k !== "loadgen");
  result.cpuMsPerWebhook = Object.fromEntries(parts.map(([k, v]) => [k, round((v * 1000) / completed, 2)]));
  const totalMs = parts.reduce((sum, [, v]) => sum + (v * 1000) / completed, 0);
  result.cpuMsPerWebhook.total = round(totalMs, 2);
  result.projectedOn2Cores = Math.round(2000 / totalMs);
  result.limitedBy = bottleneck(result.cpuCores, cpuUse.machineBusy, pg);
  log(
    `capacity ${driver} ×${workers}: ingest ${result.ingestRps}/s, completed ${result.completedPerSec}/s, ` +
      `machine ${Math.round(cpuUse.machineBusy * 100)}% busy → ${result.limitedBy}`,
  );
  return result;
}

/** Names what saturated: Redis (one core), the machine's CPU (and who used it), or Postgres waits. */
function bottleneck(cores: Record<string, number>, machineBusy: number, pg: ActivityReport): string {
  const users = Object.entries(cores)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  if ((cores.redis ?? 0) >= 0.85) return `Redis (its one core is busy: ${cores.redis})`;
  if (machineBusy >= 0.9) return `CPU (both cores busy; cores used: ${users})`;
  const waits = Object.entries(pg.byWait).filter(([k]) => k !== "CPU");
  return `Postgres waits (${pg.avgActiveSessions} busy sessions; ${waits.map(([k, v]) => `${k} ${v}`).join(", ") || "none"}); cores used: ${users}`;
}

/** One window at a steady `rate`: did the pipeline keep up, and how long did each webhook take to complete? */
export async function sustainedTrial(
  stack: Stack,
  driver: QueueDriverName,
  workers: number,
  rate: number,
  windowS: number,
  cfg: PipelineConfig,
) {
  const p = await startPipeline(stack, driver, workers, cfg, `sus-${driver}-${workers}-${Math.round(rate)}`);
  const warmupMs = cfg.warmupS * 1000;
  const windowStart = Date.now() + warmupMs;
  const backlog: { x: number; y: number }[] = [];
  let inFlight = 0;
  const poll = setInterval(async () => {
    const t = (Date.now() - windowStart) / 1000;
    if (t < 0) return;
    const unfinished = await stack.unfinished();
    backlog.push({ x: t, y: unfinished + inFlight });
  }, 1_000);
  p.resetPeaks();
  setTimeout(() => void p.cpu.start(), warmupMs);
  const run = await paced({
    url: p.receiver.webhookUrl,
    secret: stack.secret,
    rate,
    durationMs: warmupMs + windowS * 1000,
    maxInFlight: 512,
    onSecond: (s) => {
      inFlight = s.inFlight;
    },
  });
  clearInterval(poll);
  const cpuUse = await p.cpu.stop();
  const peakRssMb = p.peakRssMb();
  // Everything accepted must complete; then read webhook-to-completion latencies from the rows.
  const drained = await waitFor(
    "the backlog to drain",
    async () => ((await stack.unfinished()) === 0 ? stack.count() : undefined),
    90_000,
    250,
  ).catch(() => undefined);
  const { rows } = await stack.sql.query(
    // A job's input is its inbox event's payload (jobs.input is NULL for event jobs).
    `SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM j.completed_at) * 1000 - (e.payload->'data'->>'bench_sent_at')::float8) AS p,
            count(*)::int AS n
       FROM jobs j JOIN webhook_events e ON e.id = j.event_id
      WHERE j.status = 'COMPLETED' AND (e.payload->'data'->>'bench_sent_at')::float8 >= $1`,
    [windowStart],
  );
  // Where the time goes (p99 of each leg): sent → stored (receiver), stored → claimed (queue
  // wait), claimed → completed (run). Attempts above one show retries.
  const { rows: legs } = await stack.sql.query(
    `SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM j.created_at) * 1000 - (e.payload->'data'->>'bench_sent_at')::float8) AS stored,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM j.started_at - j.created_at) * 1000) AS queued,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM j.completed_at - j.started_at) * 1000) AS ran,
            count(*) FILTER (WHERE j.attempts > 1)::int AS retried
       FROM jobs j JOIN webhook_events e ON e.id = j.event_id
      WHERE j.status = 'COMPLETED' AND (e.payload->'data'->>'bench_sent_at')::float8 >= $1`,
    [windowStart],
  );
  await p.stop();
  const growthPerSec = slope(backlog);
  const finalBacklog = backlog.at(-1)?.y ?? 0;
  const sustained =
    run.failed === 0 &&
    run.achievedRps >= 0.99 * rate &&
    drained !== undefined &&
    drained.completed === run.accepted &&
    growthPerSec <= 0.01 * rate &&
    finalBacklog <= rate;
  const result = {
    rate: Math.round(rate),
    workers,
    sustained,
    achievedRps: run.achievedRps,
    failed: run.failed,
    failures: run.failures,
    backlogGrowthPerSec: round(growthPerSec),
    finalBacklog,
    maxBacklog: Math.max(0, ...backlog.map((b) => b.y)),
    p50Ms: round(rows[0].p?.[0] ?? Number.NaN),
    p99Ms: round(rows[0].p?.[1] ?? Number.NaN),
    httpP50Ms: run.p50Ms,
    httpP99Ms: run.p99Ms,
    p99LegsMs: {
      stored: round(legs[0].stored ?? Number.NaN),
      queued: round(legs[0].queued ?? Number.NaN),
      ran: round(legs[0].ran ?? Number.NaN),
    },
    retriedJobs: legs[0].retried as number,
    completedInWindow: rows[0].n,
    cpuCores: cpuUse.cores,
    machineBusy: cpuUse.machineBusy,
    idleRssMb: p.idleRssMb,
    loadRssMb: peakRssMb,
  };
  log(
    `sustained ${driver} ×${workers} at ${result.rate}/s: ${sustained ? "kept up" : "fell behind"} ` +
      `(backlog ${result.backlogGrowthPerSec}/s, final ${finalBacklog}), p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms ` +
      `(p99 legs ms: stored ${result.p99LegsMs.stored}, queued ${result.p99LegsMs.queued}, ran ${result.p99LegsMs.ran}; retried ${result.retriedJobs})` +
      (run.failed > 0 ? `; ${run.failed} requests failed: ${JSON.stringify(run.failures)}` : "") +
      (run.achievedRps < 0.99 * rate ? `; the generator sent only ${run.achievedRps}/s` : ""),
  );
  return result;
}

/**
 * The highest steady rate kept up for `windowS`: starts at 80% of the measured capacity, steps
 * down 15% after a failed window, and tries 10% higher once after a first window that held.
 */
export async function findSustained(
  stack: Stack,
  driver: QueueDriverName,
  workers: number,
  capacity: number,
  windowS: number,
  maxTrials: number,
  cfg: PipelineConfig,
) {
  // From 80% of the closed-loop capacity: 10% up after each hit, 15% down after each miss
  // until a hit; once a hit and a miss bracket the answer, the midpoint, then stop.
  const trials = [];
  let rate = Math.max(10, Math.floor(capacity * 0.8));
  let best: Awaited<ReturnType<typeof sustainedTrial>> | undefined;
  let lowestMiss = Number.POSITIVE_INFINITY;
  for (let i = 0; i < maxTrials; i++) {
    const trial = await sustainedTrial(stack, driver, workers, rate, windowS, cfg);
    trials.push(trial);
    if (trial.sustained) {
      if (!best || trial.rate > best.rate) best = trial;
    } else lowestMiss = Math.min(lowestMiss, trial.rate);
    const bracketed = best !== undefined && lowestMiss < Number.POSITIVE_INFINITY;
    if (bracketed) {
      const mid = Math.floor((best!.rate + lowestMiss) / 2);
      // Already tried one side of a bracket narrower than 5%: that is as precise as a window gets.
      if (lowestMiss - best!.rate <= best!.rate * 0.05 || trials.some((t) => t.rate === mid)) break;
      rate = mid;
    } else rate = Math.floor(best ? rate * 1.1 : rate * 0.85);
  }
  const headline = best ?? trials.at(-1)!;
  return {
    driver,
    workers,
    windowS,
    found: best !== undefined,
    rps: best ? best.rate : 0,
    p50Ms: headline.p50Ms,
    p99Ms: headline.p99Ms,
    trials,
  };
}
