import { createLogger } from "@zixly/core";
import { loadReceiverEnv, type RunningReceiver, startReceiver } from "@zixly/receiver";
import { loadWorkerEnv, type RunningWorker, startWorkerFromEnv } from "@zixly/worker";
import type { CliIo } from "../io.js";
import { runMigrations } from "./migrate.js";

export interface LocalPipeline {
  receiver: RunningReceiver;
  worker: RunningWorker;
  stop(): Promise<void>;
}

/**
 * Receiver and one worker in this process, for local use: validates both configurations
 * (naming every bad variable), applies migrations, starts both.
 */
export async function startLocalPipeline(env: NodeJS.ProcessEnv, io: CliIo): Promise<LocalPipeline> {
  const receiverEnv = loadReceiverEnv(env);
  const workerEnv = loadWorkerEnv({
    ...env,
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${receiverEnv.PORT}`,
  });
  await runMigrations(receiverEnv.DATABASE_URL, io);
  const log = createLogger({ name: "zixly", level: receiverEnv.LOG_LEVEL });
  const receiver = await startReceiver(receiverEnv, { log: log.child({ component: "receiver" }) });
  const worker = await startWorkerFromEnv(workerEnv, { log: log.child({ component: "worker" }) });
  io.err(
    [
      `receiver  ${receiver.url}   (webhooks: ${receiver.url}/webhooks/<endpoint id>, API: ${receiver.url}/api)`,
      `worker    concurrency ${workerEnv.WORKER_CONCURRENCY}, metrics http://127.0.0.1:${worker.metricsPort ?? "-"}/metrics`,
      `database  ${redactUrl(receiverEnv.DATABASE_URL)}`,
      `queue     ${receiverEnv.QUEUE_DRIVER} ${receiverEnv.QUEUE_DRIVER === "bullmq" ? redactUrl(receiverEnv.REDIS_URL) : ""}`,
    ].join("\n"),
  );
  return {
    receiver,
    worker,
    async stop() {
      await worker.stop();
      await receiver.stop();
    },
  };
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
