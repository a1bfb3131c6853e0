/**
 * The narrow queue contract every driver implements (BullMQ today; SQS and Postgres later).
 * Callers depend on these types only, never on Redis, BullMQ or AWS types, so the backend can
 * change without touching the receiver, the worker or the workflow engine.
 *
 * Semantics every driver must keep (checked by `describeQueueDriver` in `@zixly/queue/testing`):
 * - **Idempotent enqueue by id**: enqueuing an id that is still pending (waiting, delayed or
 *   running) is a no-op, so the message is delivered once.
 * - **At-least-once delivery**: a message is acked only when its handler resolves. A crash, a
 *   lost lease or an abandoned handler means it is delivered again.
 * - **Retries**: a handler that throws is retried with backoff (a `RetryAfterError` hint wins
 *   over the backoff), a `NonRetriableError` is dead-lettered at once, and a message that used
 *   all its attempts is dead-lettered.
 * - **Leases**: a running handler keeps its message for as long as it runs.
 * - **Draining**: {@link Consumer.stop} and {@link QueueDriver.close} take no new messages and
 *   wait for running handlers.
 *
 * @module
 */

/** How long to wait between attempts of a failing message. */
export interface BackoffPolicy {
  /**
   * `exponential`: `delayMs * 2^(attempt - 1)` after attempt `attempt` fails.
   * `fixed`: `delayMs` after every failure.
   * Drivers may add a small jitter (at most ±10%) so retries of a burst spread out.
   */
  type: "exponential" | "fixed";
  /** Base delay in milliseconds (≥ 0). */
  delayMs: number;
}

/** A message to enqueue. The body must be JSON-serialisable. */
export interface QueueMessage<T> {
  /**
   * Idempotency key and delivery id. While a message with this id is pending, enqueuing the
   * same id again does nothing. Drivers may restrict the alphabet (BullMQ: no `:`, not an
   * integer) and reject invalid ids before touching the backend.
   */
  id: string;
  /** The payload. Keep it small: ids and references, not documents. */
  body: T;
  /** Deliver no earlier than this many milliseconds from now. */
  delayMs?: number;
  /** Total number of deliveries before the message is dead-lettered (≥ 1). Defaults to the driver's `defaultAttempts`. */
  attempts?: number;
  /** Backoff between failed attempts. Defaults to the driver's `defaultBackoff`. */
  backoff?: BackoffPolicy;
  /**
   * Ordering among waiting messages: lower is delivered first (≥ 1). Used for fairness between
   * tenants. Messages without one go ahead of prioritised ones. Drivers that cannot order
   * (SQS) deliver in arrival order and ignore it.
   */
  priority?: number;
}

/** One delivery of a message to a handler. */
export interface Delivery<T> {
  /** The {@link QueueMessage.id} the message was enqueued with. */
  id: string;
  /** The enqueued body. */
  body: T;
  /**
   * 1-based number of this attempt. A redelivery after a crash or a lost lease does not use up
   * an attempt, so the same number can be seen more than once (at-least-once).
   */
  attempt: number;
  /** The message's attempt limit; when `attempt === maxAttempts` a failure dead-letters it. */
  maxAttempts: number;
  /**
   * Aborted when the handler should give up early: its consumer was stopped with a deadline
   * that passed, or its lease was lost (the message may already be running elsewhere).
   */
  signal: AbortSignal;
}

/** Handles one delivery: resolve to ack, throw to fail the attempt. */
export type DeliveryHandler<T> = (delivery: Delivery<T>) => Promise<void>;

/** How a consumer takes messages. */
export interface ConsumeOptions {
  /** Most handlers running at once in this consumer (a positive integer). */
  concurrency: number;
}

/** Options for {@link Consumer.stop} and {@link QueueDriver.close}. */
export interface StopOptions {
  /**
   * How long to wait for running handlers. When it passes, their signals are aborted and their
   * messages are abandoned without an ack: the lease lapses and the backend delivers them
   * again, exactly as after a crash. Without it, stopping waits for handlers however long they take.
   */
  timeoutMs?: number;
}

/** A running subscription created by {@link QueueDriver.consume}. */
export interface Consumer {
  /**
   * Stop taking new messages and wait for the running handlers (see {@link StopOptions} for a
   * deadline), then release the consumer's connections. Safe to call more than once.
   */
  stop(options?: StopOptions): Promise<void>;
}

/** Message counts of one queue, for metrics and alerts. */
export interface QueueDepth {
  /** Ready to be delivered. */
  waiting: number;
  /** Being handled right now. */
  active: number;
  /** Waiting for their `delayMs` or for a retry backoff to pass. */
  delayed: number;
  /** Dead-lettered: failed for good, kept for operators to inspect and replay. */
  dead: number;
}

/** A dead-lettered message, as kept for operators. */
export interface DeadLetter {
  /** The message id. */
  id: string;
  /** The enqueued body. */
  body: unknown;
  /** Why the last attempt failed. */
  error: string;
  /** Attempts made before it was dead-lettered. */
  attempts: number;
}

/** A durable queue. Implementations own their connections. */
export interface QueueDriver {
  /**
   * Store messages durably. Resolves once the backend has them; rejects within a bounded time
   * when the backend is unreachable, so callers can fall back (the receiver's outbox).
   * Ids already pending are skipped (see {@link QueueMessage.id}).
   */
  enqueue<T>(queue: string, messages: readonly QueueMessage<T>[]): Promise<void>;
  /**
   * Start handing messages of `queue` to `handler`, at most `opts.concurrency` at once.
   * The consumer recovers by itself from backend outages.
   */
  consume<T>(queue: string, handler: DeliveryHandler<T>, opts: ConsumeOptions): Consumer;
  /** Current message counts of `queue`. */
  depth(queue: string): Promise<QueueDepth>;
  /** Dead-lettered messages of `queue`, most recent first (for operators / replay). */
  deadLetters?(queue: string, limit?: number): Promise<DeadLetter[]>;
  /** Stop every consumer (draining, see {@link StopOptions}) and close all connections. */
  close(options?: StopOptions): Promise<void>;
}

/** A driver constructor, e.g. `createBullmqDriver`; how the apps pick a backend from config. */
export type QueueDriverFactory<Config> = (config: Config) => QueueDriver;
