/**
 * Coalesces single operations into SQS batch calls (at most 10 entries each): everything added
 * in the same tick, or until a batch is full, goes out in one request.
 */

/** Result of one entry of a flushed batch: `undefined` when it succeeded. */
export type EntryResult = Error | undefined;

/** Adds entries; each `add` settles with its own entry's outcome. */
export interface Batcher<T> {
  add(entry: T): Promise<void>;
}

/**
 * A batcher that calls `flush` with up to `maxSize` entries. `flush` resolves with one result
 * per entry (in order) or rejects, which fails every entry of that batch.
 */
export function createBatcher<T>(
  maxSize: number,
  flush: (entries: T[]) => Promise<EntryResult[]>,
): Batcher<T> {
  let pending: { entry: T; resolve: () => void; reject: (error: Error) => void }[] = [];
  let scheduled = false;

  const send = (batch: typeof pending): void => {
    flush(batch.map((item) => item.entry)).then(
      (results) =>
        batch.forEach((item, index) => {
          const error = results[index];
          if (error) item.reject(error);
          else item.resolve();
        }),
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const item of batch) item.reject(failure);
      },
    );
  };

  const drain = (): void => {
    scheduled = false;
    while (pending.length > 0) send(pending.splice(0, maxSize));
  };

  return {
    add(entry) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ entry, resolve, reject });
        if (pending.length >= maxSize) {
          const full = pending;
          pending = [];
          send(full);
        } else if (!scheduled) {
          scheduled = true;
          setImmediate(drain);
        }
      });
    },
  };
}
