import { describe, expect, it } from "vitest";
import { createBatcher } from "./batcher.js";

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

describe("createBatcher", () => {
  it("writes items added in the same tick as one batch, each caller getting its own result", async () => {
    const batches: number[][] = [];
    const batcher = createBatcher<number, number>({
      run: async (items) => {
        batches.push(items);
        return items.map((n) => n * 10);
      },
    });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.add(n)));
    expect(results).toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("collects what arrives while a batch is in flight into the next batch", async () => {
    const batches: number[][] = [];
    const gate = deferred();
    const batcher = createBatcher<number, number>({
      run: async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate.promise;
        return items;
      },
    });
    const first = batcher.add(1);
    await new Promise((r) => setImmediate(r));
    const later = [2, 3, 4].map((n) => batcher.add(n));
    await new Promise((r) => setTimeout(r, 10));
    expect(batches).toEqual([[1]]); // the others wait for the write in flight
    gate.resolve();
    await Promise.all([first, ...later]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it("caps a batch at maxBatch items", async () => {
    const sizes: number[] = [];
    const batcher = createBatcher<number, number>({
      maxBatch: 2,
      run: async (items) => {
        sizes.push(items.length);
        return items;
      },
    });
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it("runs up to maxInFlight batches at once", async () => {
    let concurrent = 0;
    let peak = 0;
    const batcher = createBatcher<number, number>({
      maxBatch: 1,
      maxInFlight: 3,
      run: async (items) => {
        concurrent += 1;
        peak = Math.max(peak, concurrent);
        await new Promise((r) => setTimeout(r, 5));
        concurrent -= 1;
        return items;
      },
    });
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => batcher.add(n)));
    expect(peak).toBe(3);
  });

  it("retries a failed batch item by item, so only the bad item's caller sees the error", async () => {
    const batches: number[][] = [];
    const batcher = createBatcher<number, number>({
      run: async (items) => {
        batches.push(items);
        if (items.includes(13)) throw new Error("13 refused");
        return items;
      },
    });
    const outcomes = await Promise.allSettled([12, 13, 14].map((n) => batcher.add(n)));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: "13 refused" });
    expect(batches).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it("rejects every caller when the writer returns the wrong number of results", async () => {
    const batcher = createBatcher<number, number>({ run: async () => [] });
    await expect(batcher.add(1)).rejects.toThrow(/0 results for 1 items/);
  });

  it("drain waits for queued and in-flight writes", async () => {
    const written: number[] = [];
    const batcher = createBatcher<number, void>({
      run: async (items) => {
        await new Promise((r) => setTimeout(r, 5));
        written.push(...items);
        return items.map(() => undefined);
      },
    });
    void batcher.add(1);
    void batcher.add(2);
    await batcher.drain();
    expect(written).toEqual([1, 2]);
    await batcher.drain(); // idle: resolves at once
  });
});
