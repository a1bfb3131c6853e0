/**
 * The {@link QueueDriver} over BullMQ on Redis. See `docs/queue.md` for how each rule of the
 * contract maps onto BullMQ (locks, stalled-job recovery, the failed set as dead letters).
 */

import { createRedisBackend, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type ConsumerSettings, startBullmqConsumer } from "./bullmq-consumer.js";
import {
  assertBullmqJobId,
  assertBullmqQueueName,
  type JobDefaults,
  toBulkJob,
  toDeadLetter,
} from "./bullmq-jobs.js";
import { type BullmqCommonOptions, onceReporter, optionCheckers } from "./driver-options.js";
import { QueueUnavailableError } from "./errors.js";
import { assertBackoff, assertConsumeOptions, assertMessages } from "./message-validation.js";
import type {
  ConsumeOptions,
  Consumer,
  DeadLetter,
  DeliveryHandler,
  QueueDepth,
  QueueDriver,
  QueueMessage,
  StopOptions,
} from "./queue-driver.js";
import {
  closeClient,
  createConsumerClient,
  createProducerClient,
  type RedisConnection,
} from "./redis-clients.js";
import { withTimeout } from "./timeout.js";

const { positiveInteger, nonNegativeInteger } = optionCheckers("createBullmqDriver");

/** Options of {@link createBullmqDriver}. */
export interface BullmqDriverOptions extends BullmqCommonOptions {
  /** Redis to use: a `redis://` URL or `{ host, port }`. Needs `maxmemory-policy noeviction`. */
  connection: RedisConnection;
  /** Key prefix for every queue of this driver (BullMQ's `prefix`). Default `"zixly"`. */
  prefix?: string;
  /** Upper bound for `enqueue`, `depth` and `deadLetters` when Redis is slow or down. Default 5 000. */
  enqueueTimeoutMs?: number;
}

/**
 * Create a {@link QueueDriver} backed by BullMQ on Redis. Connections open lazily: one shared
 * producer connection for enqueue/depth/dead letters, and one connection (plus BullMQ's blocking
 * one) per consumer.
 *
 * @example
 * ```ts
 * const queue = createBullmqDriver({ connection: env.REDIS_URL, lockDurationMs: 30_000 });
 * await queue.enqueue("jobs", [{ id: "job-1", body: { jobId: "1" } }]);
 * const consumer = queue.consume("jobs", async (d) => run(d.body, d.signal), { concurrency: 10 });
 * process.on("SIGTERM", () => void queue.close({ timeoutMs: 25_000 }));
 * ```
 */
export function createBullmqDriver(options: BullmqDriverOptions): QueueDriver {
  const defaults: JobDefaults = {
    attempts: positiveInteger(options.defaultAttempts ?? 3, "defaultAttempts"),
    backoff: options.defaultBackoff ?? { type: "exponential", delayMs: 1_000 },
  };
  assertBackoff(defaults.backoff, "createBullmqDriver: defaultBackoff");
  const prefix = options.prefix ?? "zixly";
  if (prefix.length === 0 || prefix.includes(":"))
    throw new TypeError('createBullmqDriver: prefix must be non-empty and without ":"');
  const timeoutMs = positiveInteger(options.enqueueTimeoutMs ?? 5_000, "enqueueTimeoutMs");
  const jitter = options.jitter ?? 0.1;
  if (!(Number.isFinite(jitter) && jitter >= 0))
    throw new RangeError("createBullmqDriver: jitter must be a finite number ≥ 0");
  const report = onceReporter(options.onError ?? ((error) => console.error("[@zixly/queue]", error)));
  const consumerSettings: ConsumerSettings<Redis> = {
    open: () => {
      const client = createConsumerClient(options.connection);
      // The worker forwards its connections' errors as its own; listening on the client too would
      // report each twice. Until BullMQ attaches, a bare client must not crash the process.
      client.on("error", () => undefined);
      return { connection: client, backendFactory: createRedisBackend, release: () => closeClient(client) };
    },
    prefix,
    jitter,
    lockDurationMs: positiveInteger(options.lockDurationMs ?? 30_000, "lockDurationMs"),
    stalledIntervalMs: positiveInteger(options.stalledIntervalMs ?? 30_000, "stalledIntervalMs"),
    maxStalledCount: nonNegativeInteger(options.maxStalledCount ?? 2, "maxStalledCount"),
    onError: report,
  };

  let producer: Redis | undefined;
  const queues = new Map<string, Queue>();
  const consumers = new Set<Consumer>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const assertOpen = (operation: string): void => {
    if (closed) throw new Error(`queue driver is closed (${operation})`);
  };

  // Queue instances are reused per name; they all share the one producer connection.
  const queueFor = (name: string): Queue => {
    let queue = queues.get(name);
    if (!queue) {
      if (!producer) {
        producer = createProducerClient(options.connection, timeoutMs);
        producer.on("error", report);
      }
      queue = new Queue(name, { connection: producer, prefix });
      queue.on("error", report);
      queues.set(name, queue);
    }
    return queue;
  };

  // A Queue whose first connection attempt failed stays broken (BullMQ caches the failed
  // initialisation), so after any backend failure the next call starts from a fresh one.
  const discard = (name: string): void => {
    const queue = queues.get(name);
    queues.delete(name);
    void queue?.close().catch(() => {});
  };

  const call = async <R>(name: string, what: string, run: (queue: Queue) => Promise<R>): Promise<R> => {
    assertOpen(what);
    assertBullmqQueueName(name);
    // While the producer connection is known to be down (ioredis is between reconnect attempts),
    // fail at once: callers (the receiver's outbox fallback) must not wait out a timeout per call.
    if (producer && (producer.status === "reconnecting" || producer.status === "end")) {
      throw new QueueUnavailableError(
        `${what} on queue ${name} failed: Redis is unreachable (${producer.status})`,
      );
    }
    const queue = queueFor(name);
    // Give up as soon as the producer connection drops (ECONNREFUSED is immediate) instead of
    // waiting out the whole timeout for a Redis that is not there.
    let cleanup = () => {};
    const down = new Promise<never>((_, reject) => {
      const onDown = () =>
        reject(new QueueUnavailableError(`${what} on queue ${name} failed: Redis is unreachable`));
      producer?.once("reconnecting", onDown);
      producer?.once("end", onDown);
      cleanup = () => {
        producer?.off("reconnecting", onDown);
        producer?.off("end", onDown);
      };
    });
    down.catch(() => {});
    try {
      return await withTimeout(
        Promise.race([run(queue), down]),
        timeoutMs,
        () => new QueueUnavailableError(`${what} on queue ${name} timed out after ${timeoutMs} ms`),
      );
    } catch (error) {
      discard(name);
      if (error instanceof QueueUnavailableError) throw error;
      throw new QueueUnavailableError(`${what} on queue ${name} failed: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      cleanup();
    }
  };

  return {
    async enqueue<T>(queue: string, messages: readonly QueueMessage<T>[]): Promise<void> {
      assertOpen("enqueue");
      assertBullmqQueueName(queue);
      assertMessages(messages);
      for (const message of messages) assertBullmqJobId(message.id);
      if (messages.length === 0) return;
      const jobs = messages.map((message) => toBulkJob(message, defaults));
      await call(queue, "enqueue", (q) => q.addBulk(jobs));
    },

    consume<T>(queue: string, handler: DeliveryHandler<T>, opts: ConsumeOptions): Consumer {
      assertOpen("consume");
      assertConsumeOptions(opts);
      const inner = startBullmqConsumer(queue, handler, opts.concurrency, consumerSettings);
      const consumer: Consumer = {
        stop: (stopOptions) => inner.stop(stopOptions).finally(() => consumers.delete(consumer)),
      };
      consumers.add(consumer);
      return consumer;
    },

    async depth(queue: string): Promise<QueueDepth> {
      const counts = await call(queue, "depth", (q) =>
        q.getJobCounts("waiting", "prioritized", "active", "delayed", "failed"),
      );
      return {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        dead: counts.failed ?? 0,
      };
    },

    async deadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
      const jobs = await call(queue, "deadLetters", (q) => q.getFailed(0, Math.max(1, limit) - 1));
      return jobs.map(toDeadLetter);
    },

    close(stopOptions?: StopOptions): Promise<void> {
      closed = true;
      // Every call reaches the consumers, so a later call can add a deadline to a drain in progress.
      const stopping = Promise.all([...consumers].map((consumer) => consumer.stop(stopOptions)));
      closing ??= (async () => {
        await stopping;
        await Promise.all([...queues.values()].map((queue) => queue.close().catch(report)));
        queues.clear();
        if (producer) await closeClient(producer);
      })();
      return closing;
    },
  };
}
