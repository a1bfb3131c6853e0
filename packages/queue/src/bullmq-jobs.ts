/**
 * How contract messages map onto BullMQ jobs and back. Everything BullMQ-specific about a
 * message (job id rules, job options, the backoff encoding) lives here.
 */
import type { BackoffStrategy, Job, JobsOptions, MinimalJob } from "bullmq";
import type { BackoffPolicy, DeadLetter, QueueMessage } from "./queue-driver.js";
import { decideRetry } from "./retry-policy.js";

/** The name every job gets; BullMQ needs one, the contract has none. */
export const JOB_NAME = "message";

/**
 * Backoff types stored on the job. They are deliberately not BullMQ's built-in "exponential" /
 * "fixed": BullMQ only calls the worker's custom `backoffStrategy` for unknown types, and ours
 * must run to honour `RetryAfterError` and `NonRetriableError`.
 */
const BACKOFF_TYPES = { exponential: "zixly-exponential", fixed: "zixly-fixed" } as const;

/**
 * BullMQ job ids must not contain `:` (it separates key parts in Redis) and must not look like
 * an integer (those collide with BullMQ's own auto-generated ids). Rejecting them here gives a
 * clear error before anything is sent.
 */
export function assertBullmqJobId(id: string): void {
  if (id.includes(":")) {
    throw new TypeError(`message id ${JSON.stringify(id)}: BullMQ ids must not contain ":"`);
  }
  if (`${Number.parseInt(id, 10)}` === id) {
    throw new TypeError(
      `message id ${JSON.stringify(id)}: BullMQ ids must not be integers (prefix them, e.g. "evt-${id}")`,
    );
  }
}

/** BullMQ queue names become part of Redis keys, so they must not contain `:` either. */
export function assertBullmqQueueName(queue: string): void {
  if (typeof queue !== "string" || queue.length === 0 || queue.includes(":")) {
    throw new TypeError(`queue name ${JSON.stringify(queue)}: must be non-empty and must not contain ":"`);
  }
}

/** Driver-wide defaults applied to messages that do not set their own. */
export interface JobDefaults {
  attempts: number;
  backoff: BackoffPolicy;
}

/** One `Queue.addBulk` entry for `message`. */
export function toBulkJob<T>(
  message: QueueMessage<T>,
  defaults: JobDefaults,
): { name: string; data: T; opts: JobsOptions } {
  const backoff = message.backoff ?? defaults.backoff;
  return {
    name: JOB_NAME,
    data: message.body,
    opts: {
      jobId: message.id,
      delay: message.delayMs ?? 0,
      attempts: message.attempts ?? defaults.attempts,
      backoff: { type: BACKOFF_TYPES[backoff.type], delay: backoff.delayMs },
      // Completed jobs go at once, so the id can be enqueued again (a later event for the
      // same entity) and Redis does not grow with history. Failed jobs stay: they are the
      // dead-letter set.
      removeOnComplete: true,
      removeOnFail: false,
      // BullMQ priorities are 1 (first) … 2^21; unprioritised jobs run before prioritised ones.
      ...(message.priority !== undefined
        ? { priority: Math.min(MAX_PRIORITY, Math.max(1, Math.round(message.priority))) }
        : {}),
    },
  };
}

/** BullMQ's largest priority. */
const MAX_PRIORITY = 2_097_152;

/** The backoff a job was enqueued with (tolerates jobs written by other producers). */
function backoffOf(type: string | undefined, job: MinimalJob | undefined): BackoffPolicy {
  const stored = job?.opts.backoff;
  const delayMs = typeof stored === "number" ? stored : (stored?.delay ?? 0);
  return { type: type === BACKOFF_TYPES.fixed ? "fixed" : "exponential", delayMs };
}

/**
 * The worker's `settings.backoffStrategy`: the contract's retry rules from {@link decideRetry}.
 * BullMQ calls it only while attempts remain, with `attemptsMade` = the number of the attempt
 * that just failed; returning -1 tells BullMQ not to retry, which moves the job to the failed
 * (dead-letter) set at once.
 */
export function contractBackoffStrategy(jitter: number): BackoffStrategy {
  return (attemptsMade, type, err, job) => {
    const decision = decideRetry({
      error: err,
      attempt: attemptsMade,
      maxAttempts: job?.opts.attempts ?? 1,
      backoff: backoffOf(type, job),
      jitter,
    });
    return decision.retry ? decision.delayMs : -1;
  };
}

/** A failed job as the contract's dead letter. */
export function toDeadLetter(job: Job): DeadLetter {
  return {
    id: job.id ?? "",
    body: job.data as unknown,
    error: job.failedReason ?? "",
    attempts: job.attemptsMade,
  };
}
