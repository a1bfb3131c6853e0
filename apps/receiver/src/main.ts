import { createLogger } from "@zixly/core";
import { loadReceiverEnv } from "./env.js";
import { startReceiver } from "./server.js";

/** Receiver process: HTTP API + outbox relay. SIGTERM/SIGINT stop it gracefully. */
async function main(): Promise<void> {
  let env: ReturnType<typeof loadReceiverEnv>;
  try {
    env = loadReceiverEnv();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger({ name: "receiver", level: env.LOG_LEVEL });
  const receiver = await startReceiver(env, { log });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "receiver stopping");
    await receiver.stop();
    log.info("receiver stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

void main();
