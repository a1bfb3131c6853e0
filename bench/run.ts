// `npm run bench`: ingest, worker throughput, scale-out, sustained pipeline and footprint in one
// run, each against a baseline measured in the same run. Writes bench/results/latest.{json,md}.
// BENCH_QUICK=1 shortens everything (~3 minutes); see bench/README.md for the other knobs.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { postgresDriverStatus } from "./lib/postgres-driver.js";
import { APP_MODE, machineTicks, ROOT } from "./lib/procs.js";
import { machineDescription, type Results, renderMarkdown, targets } from "./lib/report.js";
import { createStack } from "./lib/stack.js";
import { log, round, sleep } from "./lib/util.js";
import { ingestSection } from "./sections/ingest.js";
import { capacityRun, findSustained, type PipelineConfig } from "./sections/pipeline.js";
import { pipelineFloor } from "./sections/pipeline-floor.js";
import { workerSection } from "./sections/worker.js";

const quick = process.env.BENCH_QUICK === "1";
const num = (name: string, full: number, short: number) =>
  Number(process.env[name] ?? (quick ? short : full));
const cfg = {
  quick,
  ingestS: num("BENCH_INGEST_S", 20, 5),
  workerEvents: num("BENCH_WORKER_EVENTS", 20_000, 1_000),
  postgresWorkerEvents: num("BENCH_PG_WORKER_EVENTS", 10_000, 1_000),
  capacityS: num("BENCH_CAPACITY_S", 10, 5),
  sustainedS: num("BENCH_SUSTAINED_S", 60, 10),
  sustainedTrials: num("BENCH_SUSTAINED_TRIALS", 4, 2),
  concurrency: num("BENCH_CONCURRENCY", 50, 50),
  scaleOut: (process.env.BENCH_SCALE_OUT ?? "1,2,4").split(",").map(Number),
  sections: new Set((process.env.BENCH_SECTIONS ?? "ingest,worker,pipeline,postgres").split(",")),
  logLevel: process.env.BENCH_LOG_LEVEL ?? "info",
  profileDir:
    process.env.BENCH_PROFILE === "1"
      ? (process.env.BENCH_PROFILE_DIR ?? "/tmp/zixly-bench-prof")
      : undefined,
};
const pipelineCfg: PipelineConfig = {
  totalConcurrency: cfg.concurrency,
  capacityS: cfg.capacityS,
  warmupS: quick ? 2 : 3,
};
const startedAt = Date.now();

/** Other people's processes may share this machine: wait (up to 10 s) for it to be quiet, and record how busy it was. */
const background: Record<string, number> = {};
async function quiet(section: string) {
  let busy = 1;
  for (let i = 0; i < 5 && busy > 0.25; i++) {
    const a = machineTicks();
    await sleep(i === 0 ? 1_000 : 2_000);
    const b = machineTicks();
    busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
  }
  background[section] = round(busy, 2);
  if (busy > 0.25) log(`machine still ${Math.round(busy * 100)}% busy with other work before ${section}`);
}

/** The commit measured, `+dirty` when the work tree had changes (results are then not reproducible from it). */
function gitCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT })
      .toString()
      .split("\n")
      .some((line) => line.trim() !== "" && !line.includes("bench/results/"));
    return dirty ? `${head}+dirty` : head;
  } catch {
    return "unknown (not a git checkout)";
  }
}

function shippedNodeFlags(app: "receiver" | "worker"): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, `apps/${app}/package.json`), "utf8")) as {
    nodeFlags?: string[];
  };
  return manifest.nodeFlags ?? [];
}

const stack = await createStack({
  logLevel: cfg.logLevel,
  workerConcurrency: cfg.concurrency,
  ...(cfg.profileDir ? { pgStatsDir: `${cfg.profileDir}/pg` } : {}),
  // The V8 flags each app ships with (its package.json "nodeFlags", as in its Dockerfile's CMD).
  nodeFlags: (app) => [
    ...shippedNodeFlags(app),
    ...(cfg.profileDir
      ? [
          "--cpu-prof",
          `--cpu-prof-dir=${cfg.profileDir}/${app}`,
          "--import",
          "tsx",
          "--import",
          "./bench/lib/pg-stats-preload.ts",
        ]
      : []),
  ],
});
// Interrupted: still stop the processes, drop the database and remove the Redis keys.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void stack.close().finally(() => process.exit(130));
  });
}
let results: Results | undefined;
try {
  const machine = await machineDescription(stack.sql);
  results = {
    meta: {
      date: new Date().toISOString(),
      commit: gitCommit(),
      mode: quick ? "quick" : "full",
      appMode: APP_MODE,
      logLevel: cfg.logLevel,
      machine,
      config: { ...cfg, sections: [...cfg.sections] },
      backgroundCpuBeforeSection: background,
    },
  };

  if (cfg.sections.has("ingest")) {
    await quiet("ingest");
    results.ingest = await ingestSection(stack, {
      durationS: cfg.ingestS,
      warmupS: quick ? 2 : 3,
      connections: 50,
    });
  }
  if (cfg.sections.has("worker")) {
    await quiet("worker");
    results.worker = await workerSection(stack, "bullmq", {
      events: cfg.workerEvents,
      concurrency: cfg.concurrency,
    });
  }
  if (cfg.sections.has("pipeline")) {
    const scaleOut = [];
    for (const workers of cfg.scaleOut) {
      await quiet(`scaleOut-${workers}`);
      scaleOut.push(await capacityRun(stack, "bullmq", workers, pipelineCfg));
    }
    results.scaleOut = scaleOut;
    await quiet("pipelineFloor");
    results.pipelineFloor = await pipelineFloor(stack, {
      capacityS: pipelineCfg.capacityS,
      warmupS: pipelineCfg.warmupS,
      concurrency: cfg.concurrency,
    });
    const best = scaleOut.reduce((a, b) => (b.completedPerSec > a.completedPerSec * 1.05 ? b : a));
    const capacity = Math.min(best.ingestRps, best.completedPerSec);
    // BENCH_SUSTAINED_TRIALS=0: capacity and floors only (a quick A/B of a change).
    if (cfg.sustainedTrials > 0) {
      await quiet("sustained");
      results.sustained = await findSustained(
        stack,
        "bullmq",
        best.workers,
        capacity,
        cfg.sustainedS,
        cfg.sustainedTrials,
        pipelineCfg,
      );
    }
  }
  if (cfg.sections.has("postgres")) {
    // Beside the Redis pipeline: the same worker and sustained measurements with QUEUE_DRIVER=postgres,
    // kept within the run's 15-minute budget (fewer events, at most two sustained windows).
    const status = await postgresDriverStatus();
    const section: NonNullable<Results["postgresOnly"]> = { ...status };
    const minutes = () => (Date.now() - startedAt) / 60_000;
    if (!status.available) {
      log(`Postgres-only pipeline skipped: ${status.note}`);
    } else if (minutes() > 9.5) {
      section.note = `skipped: the run was already ${minutes().toFixed(1)} minutes long`;
    } else {
      await quiet("postgres-worker");
      section.worker = await workerSection(stack, "postgres", {
        events: cfg.postgresWorkerEvents,
        concurrency: cfg.concurrency,
      });
      if (minutes() < 11.5) {
        await quiet("postgres-sustained");
        const cap = await capacityRun(stack, "postgres", 1, pipelineCfg);
        section.capacity = cap;
        const trials = Math.min(cfg.sustainedTrials, quick || minutes() > 12 ? 1 : 2);
        const capacity = Math.min(cap.ingestRps, cap.completedPerSec);
        if (trials > 0) {
          section.sustained = await findSustained(
            stack,
            "postgres",
            1,
            capacity,
            cfg.sustainedS,
            trials,
            pipelineCfg,
          );
        }
      } else section.note = `${status.note}; sustained part skipped to keep the run under 15 minutes`;
    }
    results.postgresOnly = section;
  }
  results.rssMb = footprint(results);
  results.targets = targets(results);
  results.meta.durationS = Math.round((Date.now() - startedAt) / 1000);

  const dir = process.env.BENCH_RESULTS_DIR ?? join(ROOT, "bench/results");
  const name = process.env.BENCH_RESULTS_NAME ?? "latest";
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.md`), renderMarkdown(results));
  log(
    `wrote ${join(dir, `${name}.json`)} and ${name}.md in ${Math.round((Date.now() - startedAt) / 1000)} s`,
  );
} finally {
  await stack.close();
}

/** Receiver and worker resident memory at idle and under load, gathered from the sections. */
function footprint(r: Results) {
  const sustainedTrial = r.sustained?.trials.find((t) => t.sustained) ?? r.sustained?.trials.at(-1);
  return {
    workerConcurrency: cfg.concurrency,
    receiverIdle: r.ingest?.rssMb.receiverIdle ?? sustainedTrial?.idleRssMb.receiver,
    receiverIngestLoad: r.ingest?.rssMb.receiverLoad,
    receiverEndToEndLoad: sustainedTrial?.loadRssMb.receiver,
    workerIdle: sustainedTrial?.idleRssMb.worker,
    workerDrainLoad: r.worker?.workerPeakRssMb,
    workerEndToEndLoad: sustainedTrial?.loadRssMb.worker,
    rawBullmqDrainLoad: r.worker?.baselinePeakRssMb,
  };
}
