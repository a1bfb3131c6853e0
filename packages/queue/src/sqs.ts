/**
 * The Amazon SQS queue driver, as its own entry so that apps on another backend never load the
 * AWS SDK. Enqueue is idempotent through a shared {@link PendingIdStore} (Postgres in
 * production); see `docs/aws.md` for the mapping of the contract onto SQS.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createPgPendingIdStore, createSqsDriver } from "@zixly/queue/sqs";
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
 * const queue = createSqsDriver({
 *   region: "eu-west-1",
 *   queueUrls: { jobs: { url: process.env.SQS_QUEUE_URL!, dlqUrl: process.env.SQS_DLQ_URL } },
 *   pendingIds: createPgPendingIdStore({ query: (text, values) => pool.query(text, values) }),
 * });
 * ```
 *
 * @module
 */
export { createSqsDriver, type SqsCredentials, type SqsDriverOptions } from "./sqs-driver.js";
export {
  createInMemoryPendingIdStore,
  createPgPendingIdStore,
  type PendingIdClaim,
  type PendingIdStore,
  type PgPendingIdStoreOptions,
  pendingIdsTableSql,
  type SqlQuery,
} from "./sqs-pending-ids.js";
export type { SqsQueueUrlSource, SqsQueueUrls } from "./sqs-queue-urls.js";
