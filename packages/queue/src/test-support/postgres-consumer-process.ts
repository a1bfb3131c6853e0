/**
 * A consumer in a process of its own, for the test that SIGKILLs it mid-handler. Every handler
 * hangs; the process prints `started <id> <attempt>` when one begins. Configured by env:
 * `QUEUE_DATABASE_URL`, `QUEUE_SCHEMA`, `QUEUE_NAME`, `QUEUE_LEASE_MS`, `QUEUE_STALLED_MS`.
 *
 * Run: node --conditions=@zixly/source --import tsx postgres-consumer-process.ts
 */
import { createPostgresDriver } from "../postgres-driver.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const driver = createPostgresDriver({
  connectionString: env("QUEUE_DATABASE_URL"),
  schema: env("QUEUE_SCHEMA"),
  poolSize: 3,
  lockDurationMs: Number(env("QUEUE_LEASE_MS")),
  stalledIntervalMs: Number(env("QUEUE_STALLED_MS")),
  onError: (error) => process.stderr.write(`${error.message}\n`),
});
driver.consume(
  env("QUEUE_NAME"),
  (delivery) => {
    process.stdout.write(`started ${delivery.id} ${delivery.attempt}\n`);
    return new Promise<void>(() => undefined);
  },
  { concurrency: 1 },
);
process.stdout.write("ready\n");
