import { createLogger } from "@zixly/core";
import { loadWorkerEnv } from "./env.js";
import { startWorkerFromEnv } from "./from-env.js";

/** Worker process. SIGTERM/SIGINT: stop taking jobs, let running ones finish, exit 0. */
async function main(): Promise<void> {
  let env: ReturnType<typeof loadWorkerEnv>;
  try {
    env = loadWorkerEnv();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger({ name: "worker", level: env.LOG_LEVEL });
  const worker = await startWorkerFromEnv(env, { log });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker draining: no new jobs, waiting for running ones");
    await worker.stop();
    log.info("worker stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

void main();
