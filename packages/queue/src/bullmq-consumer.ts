/**
 * One {@link Consumer} = one BullMQ `Worker`, on whatever backend the driver opens for it (an
 * ioredis connection for the BullMQ driver, BullMQ's PostgreSQL backend for the Postgres
 * driver). This module owns the parts of the contract BullMQ does not give as-is: the
 * per-delivery `AbortSignal`, and a stop that drains, honours a deadline (abandoning handlers
 * that overrun it) and cannot hang while the backend is down.
 */
import {
  type BackendFactory,
  DelayedError,
  type IQueueBackend,
  type Job,
  type JobProgress,
  WaitingError,
  Worker,
  type WorkerOptions,
} from "bullmq";
import { assertBullmqQueueName, contractBackoffStrategy } from "./bullmq-jobs.js";
import type { Consumer, Delivery, DeliveryHandler, StopOptions } from "./queue-driver.js";

/** Where one consumer's Worker connects, and how that connection is given back. */
export interface WorkerConnection<C> {
  /** BullMQ's `connection` option for the Worker. */
  connection: C;
  /** The backend the Worker runs on (BullMQ's `Worker` 4th argument). */
  backendFactory: BackendFactory<IQueueBackend, C>;
  /** Called once the Worker is closed (e.g. end a pool that only this consumer used). */
  release(): Promise<void>;
}

/** Worker settings shared by every consumer of a driver. */
export interface ConsumerSettings<C> {
  /** Opens the connection of one consumer; called once per {@link startBullmqConsumer}. */
  open(): WorkerConnection<C>;
  /** BullMQ `prefix` (Redis key prefix; the Postgres backend ignores it). */
  prefix?: string;
  jitter: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /**
   * How long the Worker waits before fetching again after a connection error (BullMQ
   * `runRetryDelay`, default 15 000). Lower means a quicker resume after an outage.
   */
  runRetryDelayMs?: number;
  /**
   * Make the drain cover fetches too: on stop, wake the Worker's blocking wait and wait for
   * fetches in flight, so a job handed over during the drain is handed back to the queue at
   * once instead of being abandoned to its lease. Right for backends whose fetches fail fast
   * while down (Postgres: refused or connect-timeout); off for ioredis, whose consumer client
   * holds commands until Redis is back, which would hold a stop without a deadline as long.
   */
  drainFetches?: boolean;
  onError: (error: Error) => void;
}

/** A handler that is running now, and how to end it early. */
interface Running {
  jobId: string;
  controller: AbortController;
  /** Make the processor return without acking or failing the job. */
  abandon: () => void;
}

/**
 * Rethrow what a handler threw as an `Error`, since BullMQ reads `.message` / `.stack`. The
 * `name` and `retryAfterMs` of a non-`Error` throw are kept: the retry rules match on them.
 */
function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  const fields = typeof thrown === "object" && thrown !== null ? (thrown as Record<string, unknown>) : {};
  const message = typeof fields.message === "string" ? fields.message : String(thrown);
  const error = new Error(message, { cause: thrown });
  if (typeof fields.name === "string") error.name = fields.name;
  if (typeof fields.retryAfterMs === "number") Object.assign(error, { retryAfterMs: fields.retryAfterMs });
  return error;
}

/**
 * A Worker that knows what it is still busy with: fetches in flight (`moveToActive`) and jobs
 * in `processJob`, which covers the handler *and* writing its outcome (ack, retry, dead letter),
 * which is what a drain has to wait for.
 */
class DrainableWorker<T, C> extends Worker<T, void, string, IQueueBackend, JobProgress, C> {
  readonly busy = new Set<Promise<unknown>>();
  /** Whether fetches count as busy (see {@link ConsumerSettings.drainFetches}). */
  drainFetches = false;

  #track<R>(promise: Promise<R>): Promise<R> {
    this.busy.add(promise);
    const done = () => this.busy.delete(promise);
    promise.then(done, done);
    return promise;
  }

  protected override moveToActive(token: string, name?: string) {
    const fetching = super.moveToActive(token, name);
    return this.drainFetches ? this.#track(fetching) : fetching;
  }

  override processJob(job: Job<T, void>, token: string, fetchNextCallback?: () => boolean) {
    return this.#track(super.processJob(job, token, fetchNextCallback));
  }

  /** Resolve once nothing is in flight (BullMQ hands a fetched job over a tick later, so look twice). */
  async idle(): Promise<void> {
    for (let quietChecks = 0; quietChecks < 2; ) {
      if (this.busy.size > 0) {
        quietChecks = 0;
        await Promise.allSettled([...this.busy]);
      } else {
        quietChecks += 1;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }
}

/**
 * Start a BullMQ worker for `queue` that hands jobs to `handler`. `backendQueue` is the queue's
 * name in the backend when the driver maps names (the Postgres driver's prefix).
 */
export function startBullmqConsumer<T, C>(
  queue: string,
  handler: DeliveryHandler<T>,
  concurrency: number,
  settings: ConsumerSettings<C>,
  backendQueue: string = queue,
): Consumer {
  assertBullmqQueueName(queue);
  // Keyed by BullMQ's per-fetch token, not the job id: after a lost lease the same job can be
  // running twice in this process (the stale run and its redelivery).
  const running = new Map<string, Running>();
  // Set once a stop deadline passed or the worker is being torn down: from then on every
  // handler, including one fetched at the last moment, is abandoned instead of awaited.
  let abandoning = false;
  // Set when stop() begins: a job a blocking fetch still hands over after that goes straight
  // back to the queue (delayed to "now"), so a draining consumer takes no new work.
  let stopping = false;

  const processor = async (job: Job<T>, token?: string): Promise<void> => {
    if (stopping && !abandoning && token) {
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    const id = job.id ?? "";
    const key = token ?? id;
    const controller = new AbortController();
    let abandon: () => void = () => undefined;
    // Rejecting with BullMQ's WaitingError while the worker is paused or closing makes BullMQ
    // leave the job exactly where it is: still active, no ack, no failed attempt. Its lock is
    // no longer renewed, so it lapses and the stalled-job check (of any worker) puts the job
    // back in `wait` — the same path a crashed process takes. Only stop() abandons, and it
    // pauses the worker first.
    const abandoned = new Promise<never>((_, reject) => {
      abandon = () => reject(new WaitingError("abandoned: the consumer stopped before the handler finished"));
    });
    const run: Running = { jobId: id, controller, abandon };
    running.set(key, run);
    if (abandoning) abandonRun(run);
    const delivery: Delivery<T> = {
      id,
      body: job.data,
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      signal: controller.signal,
    };
    try {
      // A job fetched after the deadline passed is handed straight back without running.
      await (abandoning
        ? abandoned
        : Promise.race([abandoned, Promise.resolve().then(() => handler(delivery))]));
    } catch (thrown) {
      throw toError(thrown);
    } finally {
      running.delete(key);
    }
  };

  function abandonRun(run: Running): void {
    run.controller.abort(new Error(`consumer of ${queue} stopped; message ${run.jobId} abandoned`));
    run.abandon();
  }

  const { connection, backendFactory, release } = settings.open();
  let worker: DrainableWorker<T, C>;
  try {
    const options: WorkerOptions<C> = {
      connection,
      concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxStalledCount,
      settings: { backoffStrategy: contractBackoffStrategy(settings.jitter) },
      ...(settings.prefix !== undefined ? { prefix: settings.prefix } : {}),
      ...(settings.runRetryDelayMs !== undefined ? { runRetryDelay: settings.runRetryDelayMs } : {}),
    };
    worker = new DrainableWorker<T, C>(backendQueue, processor, options, backendFactory);
    // Read only once the worker fetches, which is after a few awaits: set in time.
    worker.drainFetches = settings.drainFetches === true;
  } catch (error) {
    void release();
    throw error;
  }
  worker.on("error", settings.onError);
  // BullMQ reports a lost lease but lets the processor run on; the contract tells the handler.
  worker.on("lockRenewalFailed", (jobIds) => {
    const lost = new Set(jobIds);
    for (const run of running.values()) {
      if (lost.has(run.jobId)) run.controller.abort(new Error(`lease lost for message ${run.jobId}`));
    }
  });

  let deadlinePassed: () => void = () => undefined;
  const deadline = new Promise<void>((resolve) => {
    deadlinePassed = resolve;
  });
  const abandonAll = (): void => {
    abandoning = true;
    for (const run of running.values()) abandonRun(run);
    deadlinePassed();
  };

  // BullMQ's graceful `close()` can hang for as long as the backend is down (it waits for the
  // main loop, whose fetch retries until the backend is back). So the drain is done here —
  // pause fetching, wait for in-flight fetches and jobs — and the worker is then closed with
  // `force`, which has nothing left to wait for.
  const shutdown = async (): Promise<void> => {
    stopping = true;
    try {
      await worker.pause(true);
      if (settings.drainFetches) await worker.getBackend().disconnectBlocking(false);
      await Promise.race([worker.idle(), deadline]);
      abandonAll();
      await worker.close(true);
    } finally {
      await release();
    }
  };

  let closing: Promise<void> | undefined;
  return {
    stop(options: StopOptions = {}) {
      closing ??= shutdown();
      if (options.timeoutMs !== undefined) {
        const timer = setTimeout(abandonAll, options.timeoutMs);
        const clear = () => clearTimeout(timer);
        closing.then(clear, clear);
      }
      return closing;
    },
  };
}
