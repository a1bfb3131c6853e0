// What one benchmark run owns: its own database (zixly_bench_<random>, migrated, dropped at the
// end), its own Redis key prefixes, a Shopify endpoint, and the receiver / worker processes.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "@zixly/db";
import { Redis } from "ioredis";
import pg from "pg";
import {
  appCommand,
  cpuSeconds,
  freePort,
  logPath,
  machineTicks,
  type Proc,
  spawnNode,
  waitHealthy,
} from "./procs.js";
import { log } from "./util.js";

export type QueueDriverName = "bullmq" | "postgres";

const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString("hex")}`;
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface Options {
  logLevel: string;
  workerConcurrency: number;
  /** Where app processes write their per-statement query timings (profile runs). */
  pgStatsDir?: string;
  /** Extra node flags per app process (e.g. --cpu-prof). */
  nodeFlags: (app: "receiver" | "worker") => string[];
}

export async function createStack(options: Options) {
  const runId = randomBytes(4).toString("hex");
  const dbName = `zixly_bench_${runId}`;
  const dbUrl = SERVER_URL.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  const logDir = join(tmpdir(), `zixly-bench-${runId}`);
  mkdirSync(logDir, { recursive: true });
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await migrate(dbUrl, { log: () => undefined });
  const sql = new pg.Pool({ connectionString: dbUrl, max: 2 });
  // A/B of a schema change before writing its migration (e.g. `DROP INDEX …`).
  if (process.env.BENCH_SETUP_SQL) await sql.query(process.env.BENCH_SETUP_SQL);
  sql.on("error", () => undefined); // DROP … WITH (FORCE) ends sessions; nothing to report then
  const redis = new Redis(REDIS_URL);
  const encryptionKey = `k1:${randomBytes(32).toString("base64")}`;
  const secret = randomBytes(32).toString("hex");
  const prefixes = new Set<string>();
  const procs = new Set<Proc>();
  let counter = 0;
  let endpointPath: string | undefined;
  log(`database ${dbName}, logs in ${logDir}`);

  const baseEnv = (driver: QueueDriverName, prefix: string): Record<string, string> => ({
    DATABASE_URL: dbUrl,
    REDIS_URL,
    QUEUE_DRIVER: driver,
    QUEUE_PREFIX: prefix,
    ZIXLY_ENCRYPTION_KEY: encryptionKey,
    WORKFLOW_MODULES: "bench/workflows.mjs",
    LOG_LEVEL: options.logLevel,
    ...(options.pgStatsDir ? { BENCH_PGSTATS_DIR: options.pgStatsDir } : {}),
    ...extraAppEnv(),
  });

  async function start(
    app: "receiver" | "worker",
    env: Record<string, string>,
  ): Promise<Proc & { port: number }> {
    const port = await freePort();
    const name = `${app}-${++counter}`;
    const file = logPath(logDir, name);
    const portEnv: Record<string, string> =
      app === "receiver" ? { PORT: String(port) } : { WORKER_METRICS_PORT: String(port) };
    const proc = spawnNode(
      name,
      [...options.nodeFlags(app), ...appCommand(app)],
      { ...env, ...portEnv },
      file,
    );
    procs.add(proc);
    await waitHealthy(proc, `http://127.0.0.1:${port}/health`, file);
    return Object.assign(proc, { port });
  }

  return {
    runId,
    dbName,
    dbUrl,
    logDir,
    sql,
    redis,
    secret,

    /** A fresh Redis key prefix (removed again by `cleanPrefix` / `close`). */
    newPrefix(label: string): string {
      const prefix = `zixly-bench-${runId}-${label}`;
      prefixes.add(prefix);
      return prefix;
    },

    async startReceiver(driver: QueueDriverName, prefix: string) {
      const receiver = await start("receiver", {
        ...baseEnv(driver, prefix),
        ZIXLY_ADMIN_TOKEN: ADMIN_TOKEN,
        WEBHOOK_RATE_LIMIT_PER_MINUTE: "0",
        API_RATE_LIMIT_PER_MINUTE: "0",
        OUTBOX_RELAY_INTERVAL_MS: "2000",
      });
      const url = `http://127.0.0.1:${receiver.port}`;
      endpointPath ??= await createEndpoint(url);
      return Object.assign(receiver, { url, webhookUrl: `${url}${endpointPath}` });
    },

    startWorker(driver: QueueDriverName, prefix: string, concurrency = options.workerConcurrency) {
      return start("worker", {
        ...baseEnv(driver, prefix),
        WORKER_CONCURRENCY: String(concurrency),
        RETRY_MAX_DELAY_MS: "1000",
      });
    },

    /** Stops every app process still running. */
    async stopAll() {
      await Promise.all([...procs].map((p) => p.stop()));
      procs.clear();
    },

    /** Empties the inbox and jobs (tenants and the endpoint stay) and drops a queue prefix's keys. */
    async reset(prefix?: string) {
      await sql.query("TRUNCATE webhook_events, jobs CASCADE");
      if (prefix) await deletePrefix(redis, prefix);
    },

    async count(): Promise<{ events: number; jobs: number; completed: number; unfinished: number }> {
      const { rows } = await sql.query(`SELECT
        (SELECT count(*) FROM webhook_events)::int AS events,
        (SELECT count(*) FROM jobs)::int AS jobs,
        (SELECT count(*) FROM jobs WHERE status = 'COMPLETED')::int AS completed,
        (SELECT count(*) FROM jobs WHERE status IN ('QUEUED', 'RUNNING', 'WAITING'))::int AS unfinished`);
      return rows[0];
    },

    /**
     * Jobs not finished yet, read through the (tenant_id, status) index: cheap while polling,
     * unlike `count()`, whose scans of the whole inbox cost the server under test real CPU.
     */
    async unfinished(): Promise<number> {
      const { rows } = await sql.query(`SELECT count(*)::int AS n FROM jobs
        WHERE tenant_id IN (SELECT id FROM tenants) AND status IN ('QUEUED', 'RUNNING', 'WAITING')`);
      return rows[0].n;
    },

    /** PIDs of this database's Postgres backends, and of the server's shared background processes. */
    async postgresPids(): Promise<{ backends: number[]; aux: number[] }> {
      const { rows } = await admin.query<{ pid: number; datname: string | null; backend_type: string }>(
        "SELECT pid, datname, backend_type FROM pg_stat_activity",
      );
      return {
        backends: rows.filter((r) => r.datname === dbName).map((r) => r.pid),
        aux: rows.filter((r) => r.datname === null && r.backend_type !== "client backend").map((r) => r.pid),
      };
    },

    async redisPid(): Promise<number> {
      const info = await redis.info("server");
      return Number(/process_id:(\d+)/.exec(info)?.[1] ?? -1);
    },

    async close() {
      await this.stopAll();
      for (const prefix of prefixes) await deletePrefix(redis, prefix).catch(() => undefined);
      redis.disconnect();
      await sql.end();
      // BENCH_KEEP_DATABASE=1 keeps it for a look at the rows (drop it yourself afterwards).
      if (process.env.BENCH_KEEP_DATABASE === "1") log(`kept ${dbName}; dropped the bench's Redis keys`);
      else {
        await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        log(`dropped ${dbName} and the bench's Redis keys`);
      }
      await admin.end();
    },
  };

  async function createEndpoint(url: string): Promise<string> {
    const post = async (path: string, token: string, body: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, string>;
    };
    const tenant = await post("/api/tenants", ADMIN_TOKEN, { name: "Bench Ltd" });
    const endpoint = await post("/api/endpoints", tenant.apiKey as string, {
      source: "shopify",
      name: "Shopify bench",
      secret,
    });
    return `/webhooks/${endpoint.id}`;
  }
}

export type Stack = Awaited<ReturnType<typeof createStack>>;

/**
 * BENCH_APP_ENV="K=V;K=V": extra environment for the receiver and workers, to measure a setting
 * without changing code (e.g. `PGOPTIONS=-c synchronous_commit=off;LOG_LEVEL=warn`).
 */
function extraAppEnv(): Record<string, string> {
  const pairs = (process.env.BENCH_APP_ENV ?? "").split(";").filter((p) => p.includes("="));
  return Object.fromEntries(
    pairs.map((p) => [p.slice(0, p.indexOf("=")).trim(), p.slice(p.indexOf("=") + 1)]),
  );
}

/** Deletes every key under `prefix`; returns how many there were. */
export async function deletePrefix(redis: Redis, prefix: string, dryRun = false): Promise<number> {
  let cursor = "0";
  let count = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    count += keys.length;
    if (keys.length > 0 && !dryRun) await redis.del(...keys);
  } while (cursor !== "0");
  return count;
}

/** CPU used by named groups of processes over a window, in cores (1.0 = one core busy). */
export function cpuMeter(groups: () => Promise<Record<string, number[]>>) {
  let startPids: Record<string, number[]> = {};
  let startSecs = new Map<number, number>();
  let startMachine = machineTicks();
  let startAt = 0;
  return {
    async start() {
      startPids = await groups();
      startSecs = new Map(
        Object.values(startPids)
          .flat()
          .map((pid) => [pid, cpuSeconds(pid)]),
      );
      startMachine = machineTicks();
      startAt = performance.now();
    },
    async stop(): Promise<{ cores: Record<string, number>; machineBusy: number }> {
      const elapsed = (performance.now() - startAt) / 1000;
      const endPids = await groups();
      const cores: Record<string, number> = {};
      for (const name of new Set([...Object.keys(startPids), ...Object.keys(endPids)])) {
        const pids = new Set([...(startPids[name] ?? []), ...(endPids[name] ?? [])]);
        let used = 0;
        for (const pid of pids) used += Math.max(0, cpuSeconds(pid) - (startSecs.get(pid) ?? 0));
        cores[name] = Math.round((used / elapsed) * 100) / 100;
      }
      const m = machineTicks();
      const machineBusy = (m.busy - startMachine.busy) / Math.max(1, m.total - startMachine.total);
      // Whatever else ran meanwhile (the kernel's share of networking, other people's processes).
      const ours = Object.values(cores).reduce((a, b) => a + b, 0);
      cores.other = Math.max(0, Math.round((machineBusy * cpus().length - ours) * 100) / 100);
      return { cores, machineBusy: Math.round(machineBusy * 1000) / 1000 };
    },
  };
}
