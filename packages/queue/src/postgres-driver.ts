/**
 * The {@link QueueDriver} over BullMQ's PostgreSQL backend: the BullMQ driver's semantics (job
 * mapping, retries, leases, stalled-job recovery, the failed set as dead letters) with jobs in
 * PostgreSQL tables instead of Redis keys. See `docs/postgres-queue.md`.
 */

import { type PgPool, type PostgresQueueBackend, Queue } from "bullmq";
import pg from "pg";
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
import {
  assertSchemaName,
  DEFAULT_POSTGRES_SCHEMA,
  poolView,
  postgresBackendFactory,
  searchPathOption,
} from "./postgres-backend.js";
import { assertPostgresMessages, assertPostgresText } from "./postgres-validation.js";
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
import { withTimeout } from "./timeout.js";

const { positiveInteger, nonNegativeInteger } = optionCheckers("createPostgresDriver");

/** Options of {@link createPostgresDriver}. Pass exactly one of `connectionString` and `pool`. */
export interface PostgresDriverOptions extends BullmqCommonOptions {
  /**
   * PostgreSQL to use, e.g. `postgresql://app@db:5432/zixly`. The driver opens its own pools on
   * it (see {@link PostgresDriverOptions.poolSize}) with `search_path` set to the schema.
   */
  connectionString?: string;
  /**
   * A pool to use instead (a `pg.Pool`, or anything with its `query` / `connect` / `end`
   * surface, e.g. the PGlite adapter). It is shared by the producer side and every consumer
   * (each consumer keeps one of its sessions for `LISTEN`, so size it ≥ consumers + 2), the
   * driver never ends it, and its sessions must have the schema first on their `search_path`
   * (`options: '-c search_path="zixly_queue"'`): keep it for the queue, not the app's tables.
   */
  pool?: PgPool;
  /** Schema of the queue's tables and functions (create it with `migratePostgresQueue`). Default `"zixly_queue"`. */
  schema?: string;
  /**
   * Namespace inside the schema: queue `q` is stored as `<prefix>.q`, so several installations
   * can share one schema. No `:` or `.`. Default: none (the schema is the namespace).
   */
  prefix?: string;
  /**
   * Most sessions of each pool the driver opens from `connectionString`: one pool for enqueue,
   * depth and dead letters, and one per consumer (one of whose sessions is its `LISTEN`).
   * Default 10. Ignored with `pool`.
   */
  poolSize?: number;
  /**
   * Upper bound for `enqueue`, `depth` and `deadLetters` when Postgres is slow or down; also
   * the connect timeout of the driver's pools. Default 5 000.
   */
  enqueueTimeoutMs?: number;
  /**
   * How long a consumer waits before fetching again after Postgres refused a connection
   * (BullMQ `runRetryDelay`). Default 2 000.
   */
  reconnectDelayMs?: number;
}

/** End a pool without hanging on a session that is never released (e.g. Postgres unreachable). */
async function endPool(pool: pg.Pool, timeoutMs = 2_000): Promise<void> {
  if (pool.ended) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    pool.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/** A pool on `connectionString` whose sessions resolve unqualified names in `schema`. */
function createPool(
  connectionString: string,
  schema: string,
  max: number,
  connectTimeoutMs: number,
  onError: (error: Error) => void,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    // BullMQ lets an idle worker block on LISTEN for up to an hour (until its next delayed job)
    // when keepalive is on, trusting it to detect a silently dropped session: probe after 10 s
    // idle, as BullMQ's own LISTEN client does, not after the OS default of two hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: connectTimeoutMs,
    options: searchPathOption(schema),
    application_name: "zixly-queue",
  });
  // Idle sessions that drop (Postgres restarting) are reported here; unhandled they would crash.
  // Once the pool is ending, a session terminated on its way out is not worth a report.
  pool.on("error", (error) => {
    if (!pool.ending) onError(error);
  });
  return pool;
}

/**
 * Create a {@link QueueDriver} backed by BullMQ's PostgreSQL backend (`FOR UPDATE SKIP LOCKED`
 * claims, `LISTEN`/`NOTIFY` wake-ups). The schema must exist: run `migratePostgresQueue` first
 * (until then every call fails with BullMQ's `SchemaMigrationRequiredError` as its cause).
 * Sessions open lazily: one pool for enqueue/depth/dead letters, and one pool per consumer.
 *
 * @example
 * ```ts
 * await migratePostgresQueue({ connectionString: env.DATABASE_URL });
 * const queue = createPostgresDriver({ connectionString: env.DATABASE_URL, lockDurationMs: 30_000 });
 * await queue.enqueue("jobs", [{ id: "job-1", body: { jobId: "1" } }]);
 * const consumer = queue.consume("jobs", async (d) => run(d.body, d.signal), { concurrency: 10 });
 * process.on("SIGTERM", () => void queue.close({ timeoutMs: 25_000 }));
 * ```
 */
export function createPostgresDriver(options: PostgresDriverOptions): QueueDriver {
  const hasUrl = options.connectionString !== undefined;
  const hasPool = options.pool !== undefined;
  if (hasUrl === hasPool) throw new TypeError("createPostgresDriver: pass either connectionString or pool");
  if (hasUrl && (typeof options.connectionString !== "string" || options.connectionString.length === 0)) {
    throw new TypeError("createPostgresDriver: connectionString must be a non-empty string");
  }
  const schema = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
  assertSchemaName(schema);
  const prefix = options.prefix;
  if (prefix !== undefined && (prefix.length === 0 || prefix.includes(":") || prefix.includes("."))) {
    throw new TypeError('createPostgresDriver: prefix must be non-empty and without ":" or "."');
  }
  const backendName = (queue: string): string => (prefix === undefined ? queue : `${prefix}.${queue}`);
  const defaults: JobDefaults = {
    attempts: positiveInteger(options.defaultAttempts ?? 3, "defaultAttempts"),
    backoff: options.defaultBackoff ?? { type: "exponential", delayMs: 1_000 },
  };
  assertBackoff(defaults.backoff, "createPostgresDriver: defaultBackoff");
  const timeoutMs = positiveInteger(options.enqueueTimeoutMs ?? 5_000, "enqueueTimeoutMs");
  const poolSize = positiveInteger(options.poolSize ?? 10, "poolSize");
  if (hasUrl && poolSize < 2) throw new RangeError("createPostgresDriver: poolSize must be ≥ 2");
  const jitter = options.jitter ?? 0.1;
  if (!(Number.isFinite(jitter) && jitter >= 0))
    throw new RangeError("createPostgresDriver: jitter must be a finite number ≥ 0");
  const report = onceReporter(options.onError ?? ((error) => console.error("[@zixly/queue]", error)));
  const backendFactory = postgresBackendFactory(schema);

  const sharedPool = options.pool;
  const openPool = (): pg.Pool =>
    createPool(options.connectionString as string, schema, poolSize, timeoutMs, report);

  const consumerSettings: ConsumerSettings<PgPool> = {
    open: () => {
      if (sharedPool) {
        return {
          connection: poolView(sharedPool, keepAliveOf(sharedPool)),
          backendFactory,
          release: async () => {},
        };
      }
      const pool = openPool();
      return { connection: poolView(pool, true), backendFactory, release: () => endPool(pool) };
    },
    jitter,
    lockDurationMs: positiveInteger(options.lockDurationMs ?? 30_000, "lockDurationMs"),
    stalledIntervalMs: positiveInteger(options.stalledIntervalMs ?? 30_000, "stalledIntervalMs"),
    maxStalledCount: nonNegativeInteger(options.maxStalledCount ?? 2, "maxStalledCount"),
    runRetryDelayMs: positiveInteger(options.reconnectDelayMs ?? 2_000, "reconnectDelayMs"),
    drainFetches: true,
    onError: report,
  };

  let producerPool: pg.Pool | undefined;
  const queues = new Map<
    string,
    Queue<unknown, unknown, string, unknown, unknown, string, PostgresQueueBackend, PgPool>
  >();
  const consumers = new Set<Consumer>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const assertOpen = (operation: string): void => {
    if (closed) throw new Error(`queue driver is closed (${operation})`);
  };

  const producerConnection = (): PgPool => {
    if (sharedPool) return poolView(sharedPool, keepAliveOf(sharedPool));
    producerPool ??= openPool();
    return poolView(producerPool, true);
  };

  // Queue instances are reused per name; they all share the one producer pool.
  const queueFor = (name: string) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(backendName(name), { connection: producerConnection() }, backendFactory);
      queue.on("error", report);
      queues.set(name, queue);
    }
    return queue;
  };

  // After any failure the next call starts from a fresh Queue (as the Redis driver does), so
  // nothing a failed call left behind (a half-done readiness check, queue metadata) lingers.
  const discard = (name: string): void => {
    const queue = queues.get(name);
    queues.delete(name);
    void queue?.close().catch(() => {});
  };

  const call = async <R>(
    name: string,
    what: string,
    run: (queue: ReturnType<typeof queueFor>) => Promise<R>,
  ): Promise<R> => {
    assertOpen(what);
    assertBullmqQueueName(name);
    assertPostgresText(name, "queue name");
    const queue = queueFor(name);
    try {
      return await withTimeout(
        run(queue),
        timeoutMs,
        () => new QueueUnavailableError(`${what} on queue ${name} timed out after ${timeoutMs} ms`),
      );
    } catch (error) {
      discard(name);
      if (error instanceof QueueUnavailableError) throw error;
      throw new QueueUnavailableError(`${what} on queue ${name} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };

  return {
    async enqueue<T>(queue: string, messages: readonly QueueMessage<T>[]): Promise<void> {
      assertOpen("enqueue");
      assertBullmqQueueName(queue);
      assertMessages(messages);
      for (const message of messages) assertBullmqJobId(message.id);
      assertPostgresMessages(messages);
      if (messages.length === 0) return;
      const jobs = messages.map((message) => toBulkJob(message, defaults));
      await call(queue, "enqueue", (q) => q.addBulk(jobs));
    },

    consume<T>(queue: string, handler: DeliveryHandler<T>, opts: ConsumeOptions): Consumer {
      assertOpen("consume");
      assertConsumeOptions(opts);
      assertBullmqQueueName(queue);
      assertPostgresText(queue, "queue name");
      const inner = startBullmqConsumer(
        queue,
        handler,
        opts.concurrency,
        consumerSettings,
        backendName(queue),
      );
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
        if (producerPool) await endPool(producerPool);
      })();
      return closing;
    },
  };
}

/** Whether a caller's pool opens sessions with TCP keepalive (a `pg.Pool` records it in `options`). */
function keepAliveOf(pool: PgPool): boolean {
  const options = (pool as { options?: { keepAlive?: unknown } }).options;
  return options?.keepAlive === true;
}
