import { createLogger, stopOnSignals } from "@zixly/core";
import { managedSecretsFromEnv } from "@zixly/storage";
import { loadWorkerEnv } from "./env.js";
import { startWorkerFromEnv } from "./from-env.js";

/** Worker process. SIGTERM/SIGINT: stop taking jobs, let running ones finish, exit 0. */
async function main(): Promise<void> {
  // AWS mode: secrets (encryption keys, OAuth client secrets) from Secrets Manager.
  const managed = await managedSecretsFromEnv(process.env);
  let env: ReturnType<typeof loadWorkerEnv>;
  try {
    env = loadWorkerEnv(managed.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger({ name: "worker", level: env.LOG_LEVEL });
  const worker = await startWorkerFromEnv(env, {
    log,
    ...(managed.secretBox ? { secretBox: managed.secretBox } : {}),
  });

  // Draining: no new jobs are taken; running ones finish before the process exits.
  stopOnSignals(log, "worker (draining)", () => worker.stop());
}

void main();
