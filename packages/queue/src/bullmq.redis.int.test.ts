// BullMQ-driver cases the shared contract cannot express: Redis outages (on a private
// redis-server this file starts and kills; never the shared one), lease loss, id rules.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createBullmqDriver } from "./bullmq-driver.js";
import { QueueUnavailableError } from "./errors.js";
import type { Consumer, QueueDriver } from "./queue-driver.js";
import { deleteKeysWithPrefix, TEST_REDIS_URL } from "./test-support/redis-keys.js";
import { createPrivateRedis, freePort, type PrivateRedis } from "./test-support/redis-server.js";

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Time a promise that must reject; returns the elapsed ms and the rejection. */
async function timeRejection(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
  throw new Error("expected a rejection");
}

const drivers: QueueDriver[] = [];
const consumers: Consumer[] = [];
const errors: Error[] = [];

function driverFor(connection: string, prefix: string, enqueueTimeoutMs = 2_000): QueueDriver {
  const driver = createBullmqDriver({
    connection,
    prefix,
    lockDurationMs: 1_000,
    stalledIntervalMs: 500,
    enqueueTimeoutMs,
    // Outages make ioredis and BullMQ report a reconnect error every few hundred ms.
    onError: (error) => errors.push(error),
  });
  drivers.push(driver);
  return driver;
}

afterEach(async () => {
  const leaked = consumers.splice(0);
  await Promise.all(leaked.map((consumer) => consumer.stop({ timeoutMs: 0 })));
  await Promise.all(drivers.splice(0).map((driver) => driver.close({ timeoutMs: 0 })));
});

describe("bullmq driver: Redis outage", () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await createPrivateRedis();
    await redis.start();
  });

  afterAll(async () => {
    await redis?.dispose();
  });

  it("rejects enqueue promptly while Redis is down, and consumers resume once it is back", async () => {
    const queue = randomUUID();
    const driver = driverFor(redis.url, "outage");
    const seen: string[] = [];
    consumers.push(driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 1 }));

    await driver.enqueue(queue, [{ id: "before", body: 1 }]);
    await waitFor(() => seen.includes("before"), 10_000, "the message before the outage");
    // Pending across the outage: due only after Redis has been down and come back.
    await driver.enqueue(queue, [{ id: "pending", body: 2, delayMs: 3_000 }]);

    await redis.kill();
    const down = await timeRejection(driver.enqueue(queue, [{ id: "during", body: 3 }]));
    expect(down.error).toBeInstanceOf(QueueUnavailableError);
    expect(down.ms).toBeLessThan(3_000);
    const depthDown = await timeRejection(driver.depth(queue));
    expect(depthDown.error).toBeInstanceOf(QueueUnavailableError);
    expect(depthDown.ms).toBeLessThan(3_000);

    await sleep(1_000);
    await redis.start();

    await waitFor(() => seen.includes("pending"), 30_000, "the pending message after the restart");
    // The producer reconnects by itself too (the receiver's outbox relay retries like this).
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await driver.enqueue(queue, [{ id: "after", body: 4 }]);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(250);
      }
    }
    await waitFor(() => seen.includes("after"), 15_000, "the message after the restart");
    await sleep(500);
    expect(seen.filter((id) => id === "pending")).toHaveLength(1);
    expect(seen).not.toContain("during");
    expect(await driver.depth(queue)).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it("stops a consumer promptly while Redis is down", async () => {
    const queue = randomUUID();
    const driver = driverFor(redis.url, "stop-outage");
    const seen: string[] = [];
    const consumer = driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 2 });
    consumers.push(consumer);
    await driver.enqueue(queue, [{ id: "warm-up", body: 1 }]);
    await waitFor(() => seen.length === 1, 10_000, "the consumer to run");
    await redis.kill();
    try {
      const started = Date.now();
      await consumer.stop({ timeoutMs: 1_000 });
      await driver.close({ timeoutMs: 1_000 });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await redis.start();
    }
  });

  it("rejects enqueue within enqueueTimeoutMs when Redis was never reachable", async () => {
    const driver = driverFor(`redis://127.0.0.1:${await freePort()}`, "nowhere", 1_500);
    const attempt = await timeRejection(driver.enqueue("q", [{ id: "lost", body: 1 }]));
    expect(attempt.error).toBeInstanceOf(QueueUnavailableError);
    expect(attempt.ms).toBeGreaterThanOrEqual(0);
    expect(attempt.ms).toBeLessThan(3_000);
  });
});

describe("bullmq driver: leases and ids", () => {
  const prefix = `zixly-test-${randomUUID()}`;

  afterAll(async () => {
    await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
  });

  it("aborts the handler's signal when its lease is lost", async () => {
    const queue = randomUUID();
    const driver = driverFor(TEST_REDIS_URL, prefix);
    let signal: AbortSignal | undefined;
    let reason: unknown;
    consumers.push(
      driver.consume<number>(
        queue,
        async (d) => {
          if (d.attempt > 1 || signal) return;
          signal = d.signal;
          await new Promise<void>((resolve) => d.signal.addEventListener("abort", () => resolve()));
          reason = d.signal.reason;
        },
        { concurrency: 1 },
      ),
    );
    await driver.enqueue(queue, [{ id: "leased", body: 1 }]);
    await waitFor(() => signal !== undefined, 10_000, "the delivery");
    // Another party taking the lock away is what "lease lost" looks like to this worker.
    const admin = new Redis(TEST_REDIS_URL);
    try {
      expect(await admin.del(`${prefix}:${queue}:leased:lock`)).toBe(1);
    } finally {
      admin.disconnect();
    }
    await waitFor(() => signal?.aborted === true, 5_000, "the abort");
    expect(String(reason)).toContain("lease lost");
  });

  it("rejects ids BullMQ cannot store, before any I/O", async () => {
    // Nothing listens on this port: a round trip would time out, not throw TypeError.
    const driver = driverFor(`redis://127.0.0.1:${await freePort()}`, "ids");
    await expect(driver.enqueue("q", [{ id: "tenant:1", body: 1 }])).rejects.toThrow(TypeError);
    await expect(driver.enqueue("q", [{ id: "42", body: 1 }])).rejects.toThrow(/integers/);
  });

  it("applies the driver's default attempts and backoff", async () => {
    const queue = randomUUID();
    const driver = createBullmqDriver({
      connection: TEST_REDIS_URL,
      prefix,
      defaultAttempts: 2,
      defaultBackoff: { type: "fixed", delayMs: 100 },
      onError: (error) => errors.push(error),
    });
    drivers.push(driver);
    const attempts: Array<[number, number]> = [];
    consumers.push(
      driver.consume<number>(
        queue,
        async (d) => {
          attempts.push([d.attempt, d.maxAttempts]);
          throw new Error("always");
        },
        { concurrency: 1 },
      ),
    );
    await driver.enqueue(queue, [{ id: "defaults", body: 1 }]);
    await waitFor(() => attempts.length === 2, 10_000, "both attempts");
    await sleep(300);
    expect(attempts).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect((await driver.depth(queue)).dead).toBe(1);
  });
});
