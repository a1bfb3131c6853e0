/**
 * @module @zixly/queue
 * The narrow, backend-neutral queue contract: enqueue idempotently by id, consume at least once
 * with retries, leases and dead letters, read depth for metrics, close by draining. Drivers live
 * in their own entries (`@zixly/queue/bullmq`) and all pass one conformance suite
 * (`@zixly/queue/testing`).
 *
 * @example
 * ```ts
 * import type { QueueDriver } from "@zixly/queue";
 * import { createBullmqDriver } from "@zixly/queue/bullmq";
 * import { NonRetriableError } from "@zixly/core";
 *
 * const queue: QueueDriver = createBullmqDriver({ connection: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" });
 * await queue.enqueue("jobs", [{ id: "job-42", body: { jobId: "42" }, attempts: 5 }]);
 * const consumer = queue.consume<{ jobId: string }>(
 *   "jobs",
 *   async ({ body, attempt, signal }) => {
 *     if (!body.jobId) throw new NonRetriableError("no job id"); // dead-lettered at once
 *     await runJob(body.jobId, { signal, attempt });              // throw → retried with backoff
 *   },
 *   { concurrency: 10 },
 * );
 * await consumer.stop({ timeoutMs: 25_000 }); // drain on SIGTERM
 * ```
 */
export { QueueUnavailableError } from "./errors.js";
export type {
  BackoffPolicy,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  Delivery,
  DeliveryHandler,
  QueueDepth,
  QueueDriver,
  QueueDriverFactory,
  QueueMessage,
  StopOptions,
} from "./queue-driver.js";
