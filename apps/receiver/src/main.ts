import { createLogger, stopOnSignals } from "@zixly/core";
import { managedSecretsFromEnv } from "@zixly/storage";
import { loadReceiverEnv } from "./env.js";
import { startReceiver } from "./server.js";

/** Receiver process: HTTP API + outbox relay. SIGTERM/SIGINT stop it gracefully. */
async function main(): Promise<void> {
  // AWS mode: secrets (encryption keys, OAuth client secrets) from Secrets Manager.
  const managed = await managedSecretsFromEnv(process.env);
  let env: ReturnType<typeof loadReceiverEnv>;
  try {
    env = loadReceiverEnv(managed.env);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger({ name: "receiver", level: env.LOG_LEVEL });
  const receiver = await startReceiver(env, {
    log,
    ...(managed.secretBox ? { secretBox: managed.secretBox } : {}),
  });

  stopOnSignals(log, "receiver", () => receiver.stop());
}

void main();
