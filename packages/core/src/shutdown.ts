import type { Logger } from "pino";

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (1 if stopping failed). For
 * process entry points: a deployment's stop signal drains work instead of cutting it off.
 */
export function stopOnSignals(log: Logger, what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${what} stopping`);
    try {
      await stop();
      log.info(`${what} stopped`);
      process.exit(0);
    } catch (err) {
      log.error({ err }, `${what} did not stop cleanly`);
      process.exit(1);
    }
  };
  process.on("SIGTERM", (s) => void shutdown(s));
  process.on("SIGINT", (s) => void shutdown(s));
}
