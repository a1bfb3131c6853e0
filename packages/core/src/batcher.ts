/**
 * Group commit for concurrent callers. Each `add(item)` resolves with that item's own
 * result, but items that arrive while a write is in flight are written together in the next
 * one: at low load every item is written at once, alone (one round trip of latency); under
 * load batches grow by themselves, so N concurrent requests cost one statement and one
 * commit instead of N. This is what turns "one fsync per webhook" into "one per batch".
 */
export interface Batcher<I, O> {
  /** Queues one item; settles with its result (or its error) once its batch is written. */
  add(item: I): Promise<O>;
  /** Resolves when every item queued so far is written. */
  drain(): Promise<void>;
}

export interface BatcherOptions<I, O> {
  /**
   * Writes a batch; returns one result per item, in order. When a batch of several items
   * fails, each item is written again alone, so one bad item fails only its own caller.
   */
  run: (items: I[]) => Promise<O[]>;
  /** Most items per batch (default 100). */
  maxBatch?: number;
  /** Most batches in flight at once (default 1; a pool of N connections can take N). */
  maxInFlight?: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (reason: unknown) => void;
}

export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  const maxBatch = Math.max(1, options.maxBatch ?? 100);
  const maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  let queue: Pending<I, O>[] = [];
  let inFlight = 0;
  let scheduled = false;
  const idle: Array<() => void> = [];

  const settleIdle = () => {
    if (inFlight === 0 && queue.length === 0) for (const done of idle.splice(0)) done();
  };

  async function write(batch: Pending<I, O>[]): Promise<void> {
    try {
      const results = await options.run(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`batch writer returned ${results.length} results for ${batch.length} items`);
      }
      for (const [i, p] of batch.entries()) p.resolve(results[i] as O);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Isolate the item that broke the batch (e.g. a value the database refuses).
      await Promise.all(batch.map((p) => write([p])));
    }
  }

  function pump(): void {
    scheduled = false;
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      inFlight += 1;
      void write(batch).finally(() => {
        inFlight -= 1;
        if (queue.length > 0) pump();
        else settleIdle();
      });
    }
  }

  return {
    add(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Wait for this tick's other callers before writing: they join the same batch.
        if (!scheduled && inFlight < maxInFlight) {
          scheduled = true;
          setImmediate(pump);
        }
      });
    },
    drain() {
      if (inFlight === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
