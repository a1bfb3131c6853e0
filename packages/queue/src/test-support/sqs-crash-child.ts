/**
 * A worker process for `sqs.crash.int.test.ts`: consumes one queue with the SQS driver, prints
 * `started <id> <attempt>` when its handler starts, and then hangs until it is killed. Run with
 * `node --conditions=@zixly/source --import tsx`. Configuration comes from the environment:
 * CRASH_SQS_ENDPOINT, CRASH_SQS_REGION, CRASH_QUEUE_URL, CRASH_DLQ_URL, CRASH_DATABASE_URL,
 * CRASH_PENDING_TABLE, CRASH_VISIBILITY_SEC.
 */
import pg from "pg";
import { createSqsDriver } from "../sqs-driver.js";
import { createPgPendingIdStore } from "../sqs-pending-ids.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const pool = new pg.Pool({ connectionString: env("CRASH_DATABASE_URL"), max: 2 });
const driver = createSqsDriver({
  region: env("CRASH_SQS_REGION"),
  endpoint: env("CRASH_SQS_ENDPOINT"),
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  queueUrls: { jobs: { url: env("CRASH_QUEUE_URL"), dlqUrl: env("CRASH_DLQ_URL") } },
  pendingIds: createPgPendingIdStore({
    query: (text, values) => pool.query(text, values),
    table: env("CRASH_PENDING_TABLE"),
  }),
  visibilityTimeoutSec: Number(env("CRASH_VISIBILITY_SEC")),
  waitTimeSeconds: 1,
  onError: (error) => process.stderr.write(`${error.message}\n`),
});

driver.consume<unknown>(
  "jobs",
  (delivery) => {
    process.stdout.write(`started ${delivery.id} ${delivery.attempt}\n`);
    return new Promise<void>(() => undefined);
  },
  { concurrency: 1 },
);
process.stdout.write("ready\n");
