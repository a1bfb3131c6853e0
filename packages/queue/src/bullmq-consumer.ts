/**
 * One {@link Consumer} = one BullMQ `Worker` on its own Redis connection. This module owns the
 * parts of the contract BullMQ does not give as-is: the per-delivery `AbortSignal`, and a stop
 * that drains, honours a deadline (abandoning handlers that overrun it) and cannot hang while
 * Redis is down.
 */
import { DelayedError, type Job, WaitingError, Worker } from "bullmq";
import { assertBullmqQueueName, contractBackoffStrategy } from "./bullmq-jobs.js";
import type { Consumer, Delivery, DeliveryHandler, StopOptions } from "./queue-driver.js";
import { closeClient, createConsumerClient, type RedisConnection } from "./redis-clients.js";

/** Worker settings shared by every consumer of a driver. */
export interface ConsumerSettings {
  connection: RedisConnection;
  prefix: string;
  jitter: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
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
 * A Worker that knows which jobs it is still busy with. `processJob` covers the whole life of a
 * job in the worker: the handler *and* writing its outcome (ack, retry, dead letter) to Redis,
 * which is what a drain has to wait for.
 */
class DrainableWorker<T> extends Worker<T, void> {
  readonly busy = new Set<Promise<unknown>>();

  override processJob(job: Job<T, void>, token: string, fetchNextCallback?: () => boolean) {
    const processing = super.processJob(job, token, fetchNextCallback);
    this.busy.add(processing);
    const done = () => this.busy.delete(processing);
    processing.then(done, done);
    return processing;
  }

  /** Resolve once no job is in flight (BullMQ hands a fetched job over a tick later, so look twice). */
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

/** Start a BullMQ worker for `queue` that hands jobs to `handler`. */
export function startBullmqConsumer<T>(
  queue: string,
  handler: DeliveryHandler<T>,
  concurrency: number,
  settings: ConsumerSettings,
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

  const client = createConsumerClient(settings.connection);
  // The worker forwards its connections' errors as its own; listening on the client too would
  // report each twice. Until BullMQ attaches, a bare client must not crash the process.
  client.on("error", () => undefined);
  let worker: DrainableWorker<T>;
  try {
    worker = new DrainableWorker<T>(queue, processor, {
      connection: client,
      prefix: settings.prefix,
      concurrency,
      lockDuration: settings.lockDurationMs,
      stalledInterval: settings.stalledIntervalMs,
      maxStalledCount: settings.maxStalledCount,
      settings: { backoffStrategy: contractBackoffStrategy(settings.jitter) },
    });
  } catch (error) {
    client.disconnect();
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

  // BullMQ's graceful `close()` can hang for as long as Redis is down (it waits for the
  // blocking connection to end, which ioredis never signals while reconnecting). So the drain
  // is done here — pause fetching, wait for in-flight jobs — and the worker is then closed
  // with `force`, which has nothing left to wait for.
  const shutdown = async (): Promise<void> => {
    stopping = true;
    try {
      await worker.pause(true);
      await Promise.race([worker.idle(), deadline]);
      abandonAll();
      await worker.close(true);
    } finally {
      await closeClient(client);
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
