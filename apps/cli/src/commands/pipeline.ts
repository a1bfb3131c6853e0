import { isAbsolute, join, resolve } from "node:path";
import { createLogger } from "@zixly/core";
import { createPrismaClient, type PrismaClient } from "@zixly/db";
import { loadReceiverEnv, type RunningReceiver, startReceiver } from "@zixly/receiver";
import { loadWorkerEnv, type RunningWorker, startWorkerFromEnv } from "@zixly/worker";
import { type EmbeddedServices, startEmbeddedServices } from "../embedded.js";
import type { CliIo } from "../io.js";
import { runMigrations } from "./migrate.js";

export interface LocalPipeline {
  receiver: RunningReceiver;
  worker: RunningWorker;
  /** Set when the database (and usually the queue) runs embedded in this process. */
  embedded: { dataDir: string; databaseUrl: string; queue: boolean } | undefined;
  stop(): Promise<void>;
}

export interface LocalPipelineOptions {
  /** Relative `ZIXLY_DATA_DIR` (default `.zixly/data`) is resolved against it. Default `process.cwd()`. */
  cwd?: string;
}

/** Where embedded mode keeps its data unless `ZIXLY_DATA_DIR` says otherwise (gitignored). */
export const DEFAULT_DATA_DIR = join(".zixly", "data");

/**
 * Prisma's pool on the embedded database: one connection. PGlite is a single session that runs
 * one statement at a time anyway, and pglite-socket 0.2.17 queues protocol *messages*, not
 * whole Parse…Sync exchanges: with two or more busy connections their unnamed statements and
 * portals interleave (measured: `portal "" does not exist` and wrong results with a pool of 4).
 */
export const EMBEDDED_PRISMA_POOL = 1;

/** Stands in for `DATABASE_URL` while validating an embedded configuration (never connected to). */
const PLACEHOLDER_DATABASE_URL = "postgresql://embedded@127.0.0.1:5432/postgres";

/**
 * Receiver and one worker in this process, for local use: validates both configurations
 * (naming every bad variable), applies migrations, starts both.
 *
 * Without `DATABASE_URL` it runs embedded (docs/local-mode.md): PGlite as the database in
 * `ZIXLY_DATA_DIR` (default `./.zixly/data`) and, unless `QUEUE_DRIVER` names another driver,
 * BullMQ's PostgreSQL backend on a second PGlite as the queue, so neither Postgres nor Redis is
 * needed. With `DATABASE_URL` set it uses the configured services.
 */
export async function startLocalPipeline(
  env: NodeJS.ProcessEnv,
  io: CliIo,
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> {
  const embeddedDb = !env.DATABASE_URL?.trim();
  // An embedded database comes with the embedded queue unless a queue driver is named explicitly.
  const queueDriver = env.QUEUE_DRIVER?.trim() || (embeddedDb ? "postgres" : undefined);
  const embeddedQueue = embeddedDb && queueDriver === "postgres";
  const effective: NodeJS.ProcessEnv = {
    ...env,
    ...(embeddedDb ? { DATABASE_URL: PLACEHOLDER_DATABASE_URL } : {}),
    ...(queueDriver ? { QUEUE_DRIVER: queueDriver } : {}),
  };
  // Validate everything before starting anything.
  const receiverEnv = loadReceiverEnv(effective);
  const workerEnv = loadWorkerEnv({
    ...effective,
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${receiverEnv.PORT}`,
  });

  let services: EmbeddedServices | undefined;
  let prisma: PrismaClient | undefined;
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    for (const part of started.splice(0).reverse()) await part.stop();
    await prisma?.$disconnect();
    await services?.stop();
  };
  try {
    if (embeddedDb) {
      const dataDir = resolveDataDir(env.ZIXLY_DATA_DIR, options.cwd);
      io.err(`starting embedded PostgreSQL (PGlite) in ${dataDir} …`);
      services = await startEmbeddedServices({
        dataDir,
        queue: embeddedQueue,
        queueLockMs: workerEnv.QUEUE_LOCK_MS,
      });
      receiverEnv.DATABASE_URL = services.databaseUrl;
      workerEnv.DATABASE_URL = services.databaseUrl;
      prisma = createPrismaClient(services.databaseUrl, { max: EMBEDDED_PRISMA_POOL });
    }
    await runMigrations(receiverEnv.DATABASE_URL, io);
    const overrides = {
      ...(services?.queue ? { queue: services.queue } : {}),
      ...(prisma ? { prisma } : {}),
    };
    const log = createLogger({ name: "zixly", level: receiverEnv.LOG_LEVEL });
    const receiver = await startReceiver(receiverEnv, {
      ...overrides,
      log: log.child({ component: "receiver" }),
    });
    started.push(receiver);
    const worker = await startWorkerFromEnv(workerEnv, {
      ...overrides,
      log: log.child({ component: "worker" }),
    });
    started.push(worker);

    const lines = [
      `receiver  ${receiver.url}   (webhooks: ${receiver.url}/webhooks/<endpoint id>, API: ${receiver.url}/api)`,
      `worker    concurrency ${workerEnv.WORKER_CONCURRENCY}, metrics http://127.0.0.1:${worker.metricsPort ?? "-"}/metrics`,
    ];
    if (services) {
      lines.push(
        `database  embedded PostgreSQL (PGlite), data in ${join(services.dataDir, "db")}, served at ${services.databaseUrl}`,
        embeddedQueue
          ? `queue     embedded: BullMQ on PostgreSQL (PGlite), data in ${join(services.dataDir, "queue")}; no Redis, so API/webhook rate limits are off`
          : queueLine(receiverEnv),
        `Embedded mode (no DATABASE_URL): data survives restarts; delete ${services.dataDir} to start over. For real services set`,
        "  DATABASE_URL=postgresql://… plus QUEUE_DRIVER=bullmq REDIS_URL=redis://…, QUEUE_DRIVER=postgres (jobs in that",
        "  Postgres) or QUEUE_DRIVER=sqs; see docs/local-mode.md.",
      );
    } else {
      lines.push(`database  ${redactUrl(receiverEnv.DATABASE_URL)}`, queueLine(receiverEnv));
    }
    io.err(lines.join("\n"));
    return {
      receiver,
      worker,
      embedded: services
        ? { dataDir: services.dataDir, databaseUrl: services.databaseUrl, queue: embeddedQueue }
        : undefined,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

function queueLine(env: { QUEUE_DRIVER: string; REDIS_URL: string; DATABASE_URL: string }): string {
  switch (env.QUEUE_DRIVER) {
    case "bullmq":
      return `queue     bullmq (Redis) ${redactUrl(env.REDIS_URL)}`;
    case "postgres":
      return `queue     postgres (BullMQ on PostgreSQL, schema zixly_queue) ${redactUrl(env.DATABASE_URL)}`;
    default:
      return `queue     ${env.QUEUE_DRIVER}`;
  }
}

/** The embedded data folder: `ZIXLY_DATA_DIR` (relative to `cwd`) or `<cwd>/.zixly/data`. */
export function resolveDataDir(dataDir: string | undefined, cwd = process.cwd()): string {
  const dir = dataDir?.trim() || DEFAULT_DATA_DIR;
  return isAbsolute(dir) ? dir : resolve(cwd, dir);
}

/** A URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "(invalid URL)";
  }
}

/** Resolves on SIGINT/SIGTERM. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
}
