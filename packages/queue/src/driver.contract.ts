/**
 * The conformance suite of the queue contract: every driver's integration test calls
 * {@link describeQueueDriver} against its real backend. A rule belongs here when callers rely on
 * it; behaviour only one backend has belongs in that driver's own test file.
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { NonRetriableError, RetryAfterError } from "@zixly/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type {
  ConsumeOptions,
  Consumer,
  Delivery,
  DeliveryHandler,
  QueueDepth,
  QueueDriver,
  StopOptions,
} from "./queue-driver.js";

/** A driver built for one test, and how to remove everything it left in the backend. */
export interface DriverUnderTest {
  driver: QueueDriver;
  /** Close the driver (if the test did not) and delete the test's queues. */
  cleanup(): Promise<void>;
}

/** Timings of the driver the factory builds, so the suite can stay short yet meaningful. */
export interface QueueDriverSuiteOptions {
  /**
   * The lease of a running message (BullMQ lock duration, SQS visibility timeout) the factory
   * configured, in ms. Keep it short (1–3 s): one test runs a handler for 2.5 leases.
   */
  leaseMs: number;
  /** How long a lapsed lease may take to be redelivered. Default `3 × leaseMs + 5 s`. */
  redeliveryWithinMs?: number;
}

/** Timer granularity and clock-read slack allowed on lower bounds. */
const SLACK_MS = 15;
/** How long to keep watching for a delivery that must not happen. */
const QUIET_MS = 400;
/** Jitter the contract allows on backoff delays. */
const JITTER = 0.1;

interface Seen<T> {
  id: string;
  body: T;
  attempt: number;
  maxAttempts: number;
  at: number;
  signal: AbortSignal;
}

function record<T>(seen: Seen<T>[], delivery: Delivery<T>): void {
  const { id, body, attempt, maxAttempts, signal } = delivery;
  seen.push({ id, body, attempt, maxAttempts, signal, at: Date.now() });
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const EMPTY: QueueDepth = { waiting: 0, active: 0, delayed: 0, dead: 0 };

/**
 * Wrap a driver to know which consumers a test left running; the suite fails such tests, since
 * a leaked consumer would steal messages from later tests and keep the process alive.
 */
function trackConsumers(driver: QueueDriver): { driver: QueueDriver; running: Set<Consumer> } {
  const running = new Set<Consumer>();
  const tracked: QueueDriver = {
    enqueue: (queue, messages) => driver.enqueue(queue, messages),
    consume: <T>(queue: string, handler: DeliveryHandler<T>, opts: ConsumeOptions): Consumer => {
      const inner = driver.consume(queue, handler, opts);
      const consumer: Consumer = {
        stop: (options?: StopOptions) => {
          running.delete(consumer);
          return inner.stop(options);
        },
      };
      running.add(consumer);
      return consumer;
    },
    depth: (queue) => driver.depth(queue),
    close: (options) => {
      running.clear();
      return driver.close(options);
    },
  };
  const deadLetters = driver.deadLetters?.bind(driver);
  if (deadLetters) tracked.deadLetters = deadLetters;
  return { driver: tracked, running };
}

/**
 * Register the contract's conformance tests for one driver. `makeDriver` runs before every test
 * and must return a fresh driver; each test uses its own random queue name.
 *
 * @example
 * ```ts
 * describeQueueDriver("bullmq", () => {
 *   const prefix = `test-${randomUUID()}`;
 *   const driver = createBullmqDriver({ connection: REDIS_URL, prefix, lockDurationMs: 2_000, stalledIntervalMs: 500 });
 *   return { driver, cleanup: async () => { await driver.close(); await deleteKeys(`${prefix}:*`); } };
 * }, { leaseMs: 2_000 });
 * ```
 */
export function describeQueueDriver(
  name: string,
  makeDriver: () => DriverUnderTest | Promise<DriverUnderTest>,
  options: QueueDriverSuiteOptions,
): void {
  const leaseMs = options.leaseMs;
  const redeliveryWithinMs = options.redeliveryWithinMs ?? 3 * leaseMs + 5_000;

  describe(`queue driver contract: ${name}`, () => {
    let sut: DriverUnderTest;
    let running: Set<Consumer>;
    let driver: QueueDriver;
    let queue: string;

    beforeEach(async () => {
      sut = await makeDriver();
      ({ driver, running } = trackConsumers(sut.driver));
      queue = randomUUID();
    });

    afterEach(async () => {
      const leaked = [...running];
      try {
        await Promise.all(leaked.map((consumer) => consumer.stop({ timeoutMs: 0 })));
      } finally {
        await sut.cleanup();
      }
      if (leaked.length > 0) {
        throw new Error(`${leaked.length} consumer(s) left running: every test must stop its consumers`);
      }
    });

    const depthIs = (expected: Partial<QueueDepth>) => async () => {
      const depth = await driver.depth(queue);
      return Object.entries(expected).every(([key, value]) => depth[key as keyof QueueDepth] === value);
    };

    describe("enqueue and delivery", () => {
      it("delivers a message once, with its id, body and attempt numbers", async () => {
        await driver.enqueue(queue, [{ id: "msg-1", body: { n: 1 }, attempts: 4 }]);
        const seen: Seen<{ n: number }>[] = [];
        const consumer = driver.consume<{ n: number }>(queue, async (d) => record(seen, d), {
          concurrency: 1,
        });
        await waitFor(() => seen.length === 1, 10_000, "the delivery");
        await sleep(QUIET_MS);
        await consumer.stop();
        expect(
          seen.map(({ id, body, attempt, maxAttempts }) => ({ id, body, attempt, maxAttempts })),
        ).toEqual([{ id: "msg-1", body: { n: 1 }, attempt: 1, maxAttempts: 4 }]);
        expect(await driver.depth(queue)).toEqual(EMPTY);
      });

      it("delivers every message of a batch once", async () => {
        const ids = ["b-1", "b-2", "b-3", "b-4", "b-5"];
        await driver.enqueue(
          queue,
          ids.map((id) => ({ id, body: id })),
        );
        const seen: Seen<string>[] = [];
        const consumer = driver.consume<string>(queue, async (d) => record(seen, d), { concurrency: 2 });
        await waitFor(() => seen.length === ids.length, 10_000, "all deliveries");
        await sleep(QUIET_MS);
        await consumer.stop();
        expect(seen.map((d) => d.id).sort()).toEqual(ids);
        expect(seen.every((d) => d.body === d.id)).toBe(true);
      });

      it("delivers an id enqueued twice while pending only once (the first body wins)", async () => {
        await driver.enqueue(queue, [{ id: "dup", body: "first" }]);
        await driver.enqueue(queue, [
          { id: "dup", body: "second" },
          { id: "dup", body: "third" },
        ]);
        expect(await driver.depth(queue)).toEqual({ ...EMPTY, waiting: 1 });
        const seen: Seen<string>[] = [];
        const consumer = driver.consume<string>(queue, async (d) => record(seen, d), { concurrency: 2 });
        await waitFor(() => seen.length >= 1, 10_000, "the delivery");
        await sleep(QUIET_MS);
        await consumer.stop();
        expect(seen.map((d) => d.body)).toEqual(["first"]);
      });

      it("accepts an acked id again and delivers it again", async () => {
        const seen: Seen<string>[] = [];
        const consumer = driver.consume<string>(queue, async (d) => record(seen, d), { concurrency: 1 });
        await driver.enqueue(queue, [{ id: "again", body: "one" }]);
        await waitFor(() => seen.length === 1, 10_000, "the first delivery");
        await waitFor(depthIs(EMPTY), 5_000, "the ack");
        await driver.enqueue(queue, [{ id: "again", body: "two" }]);
        await waitFor(() => seen.length === 2, 10_000, "the second delivery");
        await consumer.stop();
        expect(seen.map((d) => d.body)).toEqual(["one", "two"]);
      });

      it("does not deliver before delayMs has passed", async () => {
        const before = Date.now();
        await driver.enqueue(queue, [{ id: "later", body: 0, delayMs: 1_000 }]);
        expect(await driver.depth(queue)).toEqual({ ...EMPTY, delayed: 1 });
        const seen: Seen<number>[] = [];
        const consumer = driver.consume<number>(queue, async (d) => record(seen, d), { concurrency: 1 });
        await waitFor(() => seen.length === 1, 10_000, "the delayed delivery");
        await consumer.stop();
        expect(seen[0]!.at - before).toBeGreaterThanOrEqual(1_000 - SLACK_MS);
      });

      it("rejects invalid messages before sending anything", async () => {
        await expect(driver.enqueue(queue, [{ id: "", body: 1 }])).rejects.toThrow(/id/);
        await expect(
          driver.enqueue(queue, [
            { id: "ok-1", body: 1 },
            { id: "bad-1", body: 1, attempts: 0 },
          ]),
        ).rejects.toThrow(/attempts/);
        await expect(driver.enqueue(queue, [{ id: "bad-2", body: 1, delayMs: -1 }])).rejects.toThrow(
          /delayMs/,
        );
        expect(await driver.depth(queue)).toEqual(EMPTY);
      });
    });

    describe("failures and retries", () => {
      it("retries a throwing handler with exponential backoff, then dead-letters it", async () => {
        const baseMs = 300;
        await driver.enqueue(queue, [
          { id: "doomed", body: "x", attempts: 3, backoff: { type: "exponential", delayMs: baseMs } },
        ]);
        const seen: Seen<string>[] = [];
        const consumer = driver.consume<string>(
          queue,
          async (d) => {
            record(seen, d);
            throw new Error(`boom on attempt ${d.attempt}`);
          },
          { concurrency: 1 },
        );
        await waitFor(depthIs({ dead: 1 }), 15_000, "the dead letter");
        await sleep(QUIET_MS);
        await consumer.stop();

        expect(seen.map((d) => [d.attempt, d.maxAttempts])).toEqual([
          [1, 3],
          [2, 3],
          [3, 3],
        ]);
        const [first, second, third] = seen.map((d) => d.at) as [number, number, number];
        // Lower bounds only (minus the allowed jitter): a loaded machine delays, never hastens.
        expect(second - first).toBeGreaterThanOrEqual(baseMs * (1 - JITTER) - SLACK_MS);
        expect(third - second).toBeGreaterThanOrEqual(2 * baseMs * (1 - JITTER) - SLACK_MS);
        expect(await driver.depth(queue)).toEqual({ ...EMPTY, dead: 1 });
        if (driver.deadLetters) {
          const dead = await driver.deadLetters(queue);
          expect(dead).toHaveLength(1);
          expect(dead[0]).toMatchObject({ id: "doomed", body: "x", attempts: 3 });
          expect(dead[0]!.error).toContain("boom on attempt 3");
        }
      });

      it("acks a message whose retry succeeds, after the fixed backoff", async () => {
        const delayMs = 300;
        await driver.enqueue(queue, [
          { id: "flaky", body: 1, attempts: 3, backoff: { type: "fixed", delayMs } },
        ]);
        const seen: Seen<number>[] = [];
        const consumer = driver.consume<number>(
          queue,
          async (d) => {
            record(seen, d);
            if (d.attempt === 1) throw new Error("transient");
          },
          { concurrency: 1 },
        );
        await waitFor(() => seen.length === 2, 10_000, "the retry");
        await sleep(QUIET_MS);
        await consumer.stop();
        expect(seen.map((d) => d.attempt)).toEqual([1, 2]);
        expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(delayMs * (1 - JITTER) - SLACK_MS);
        expect(await driver.depth(queue)).toEqual(EMPTY);
      });

      it("waits at least the RetryAfterError hint instead of the backoff", async () => {
        const hintMs = 1_200;
        await driver.enqueue(queue, [
          { id: "throttled", body: 1, attempts: 3, backoff: { type: "exponential", delayMs: 50 } },
        ]);
        const seen: Seen<number>[] = [];
        const consumer = driver.consume<number>(
          queue,
          async (d) => {
            record(seen, d);
            if (d.attempt === 1) throw new RetryAfterError("429 from vendor", hintMs);
          },
          { concurrency: 1 },
        );
        await waitFor(() => seen.length === 2, 15_000, "the retry after the hint");
        await consumer.stop();
        expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(hintMs - SLACK_MS);
        expect(await driver.depth(queue)).toEqual(EMPTY);
      });

      it("dead-letters a NonRetriableError at once, with attempts left", async () => {
        await driver.enqueue(queue, [
          { id: "hopeless", body: 1, attempts: 5, backoff: { type: "fixed", delayMs: 50 } },
        ]);
        const seen: Seen<number>[] = [];
        const consumer = driver.consume<number>(
          queue,
          async (d) => {
            record(seen, d);
            throw new NonRetriableError("invoice not found");
          },
          { concurrency: 1 },
        );
        await waitFor(depthIs({ dead: 1 }), 10_000, "the dead letter");
        await sleep(QUIET_MS);
        await consumer.stop();
        expect(seen).toHaveLength(1);
        expect(await driver.depth(queue)).toEqual({ ...EMPTY, dead: 1 });
        if (driver.deadLetters) {
          const [dead] = await driver.deadLetters(queue);
          expect(dead).toMatchObject({ id: "hopeless", attempts: 1 });
          expect(dead!.error).toContain("invoice not found");
        }
      });
    });

    describe("concurrency and leases", () => {
      it("runs at most `concurrency` handlers at once, and uses all of them", async () => {
        const ids = Array.from({ length: 9 }, (_, i) => `c-${i}`);
        await driver.enqueue(
          queue,
          ids.map((id) => ({ id, body: id })),
        );
        let inFlight = 0;
        let peak = 0;
        let done = 0;
        const consumer = driver.consume<string>(
          queue,
          async () => {
            inFlight += 1;
            peak = Math.max(peak, inFlight);
            await sleep(250);
            inFlight -= 1;
            done += 1;
          },
          { concurrency: 3 },
        );
        await waitFor(() => done === ids.length, 15_000, "all handlers");
        await consumer.stop();
        expect(peak).toBe(3);
      });

      it("keeps the lease of a handler that runs longer than the lease", async () => {
        await driver.enqueue(queue, [{ id: "slow", body: 1 }]);
        const seen: Seen<number>[] = [];
        let finished = false;
        const handler = async (d: Delivery<number>) => {
          record(seen, d);
          await sleep(2.5 * leaseMs);
          finished = true;
        };
        // Two consumers, so a lapsed lease would have somewhere to be redelivered.
        const consumers = [
          driver.consume(queue, handler, { concurrency: 1 }),
          driver.consume(queue, handler, { concurrency: 1 }),
        ];
        await waitFor(() => finished, 2.5 * leaseMs + 10_000, "the slow handler");
        await sleep(QUIET_MS);
        await Promise.all(consumers.map((c) => c.stop()));
        expect(seen).toHaveLength(1);
        expect(seen[0]!.signal.aborted).toBe(false);
        expect(await driver.depth(queue)).toEqual(EMPTY);
      });

      it("redelivers the message of a consumer that died mid-handler to another consumer", async () => {
        await driver.enqueue(queue, [{ id: "orphan", body: 1, attempts: 1 }]);
        const started = deferred();
        let doomedSignal: AbortSignal | undefined;
        // A hung handler: never settles, like a process that froze or was killed.
        const doomed = driver.consume<number>(
          queue,
          (d) => {
            doomedSignal = d.signal;
            started.resolve();
            return new Promise<void>(() => undefined);
          },
          { concurrency: 1 },
        );
        await started.promise;
        // Stop without waiting: no ack, no failure, no hand-back. The lease has to lapse.
        await doomed.stop({ timeoutMs: 0 });
        expect(doomedSignal?.aborted).toBe(true);

        const seen: Seen<number>[] = [];
        const rescuer = driver.consume<number>(queue, async (d) => record(seen, d), { concurrency: 1 });
        await waitFor(() => seen.length === 1, redeliveryWithinMs, "the redelivery");
        await sleep(QUIET_MS);
        await rescuer.stop();
        // Losing a lease does not use up an attempt: attempts: 1 still gets its one real try.
        expect(seen.map((d) => [d.id, d.attempt])).toEqual([["orphan", 1]]);
        expect(await driver.depth(queue)).toEqual(EMPTY);
      });
    });

    describe("stopping", () => {
      it("stop() waits for running handlers and takes no new messages", async () => {
        await driver.enqueue(queue, [{ id: "running", body: 1 }]);
        const started = deferred();
        const seen: string[] = [];
        let finished = false;
        const consumer = driver.consume<number>(
          queue,
          async (d) => {
            seen.push(d.id);
            started.resolve();
            await sleep(600);
            finished = true;
          },
          { concurrency: 2 },
        );
        await started.promise;
        const stopped = consumer.stop();
        await driver.enqueue(queue, [{ id: "after-stop", body: 2 }]);
        await stopped;
        expect(finished).toBe(true);
        await sleep(QUIET_MS);
        expect(seen).toEqual(["running"]);
        expect(await driver.depth(queue)).toEqual({ ...EMPTY, waiting: 1 });
      });

      it("stop() with a deadline acks handlers that finish in time", async () => {
        await driver.enqueue(queue, [{ id: "quick", body: 1 }]);
        const started = deferred();
        let finished = false;
        const consumer = driver.consume<number>(
          queue,
          async (d) => {
            started.resolve();
            await sleep(300);
            finished = !d.signal.aborted;
          },
          { concurrency: 1 },
        );
        await started.promise;
        await consumer.stop({ timeoutMs: 10_000 });
        expect(finished).toBe(true);
        expect(await driver.depth(queue)).toEqual(EMPTY);
      });

      it("a later stop() with a deadline cuts short a drain stuck on a hung handler", async () => {
        await driver.enqueue(queue, [{ id: "hung", body: 1 }]);
        const started = deferred();
        let signal: AbortSignal | undefined;
        const consumer = driver.consume<number>(
          queue,
          (d) => {
            signal = d.signal;
            started.resolve();
            return new Promise<void>(() => undefined);
          },
          { concurrency: 1 },
        );
        await started.promise;
        let drained = false;
        const draining = consumer.stop().then(() => {
          drained = true;
        });
        await sleep(QUIET_MS);
        expect(drained).toBe(false);
        await consumer.stop({ timeoutMs: 0 });
        await draining;
        expect(signal?.aborted).toBe(true);
      });

      it("close() drains every consumer before it resolves", async () => {
        await driver.enqueue(queue, [
          { id: "d-1", body: 1 },
          { id: "d-2", body: 2 },
        ]);
        let started = 0;
        let finished = 0;
        const handler = async () => {
          started += 1;
          await sleep(500);
          finished += 1;
        };
        driver.consume(queue, handler, { concurrency: 1 });
        driver.consume(queue, handler, { concurrency: 1 });
        await waitFor(() => started === 2, 10_000, "both handlers to start");
        await driver.close();
        expect(finished).toBe(2);
      });
    });

    describe("depth", () => {
      it("counts waiting, active, delayed and dead messages", async () => {
        await driver.enqueue(queue, [
          { id: "w-1", body: "block" },
          { id: "w-2", body: "fail" },
          { id: "d-1", body: "later", delayMs: 60_000 },
        ]);
        expect(await driver.depth(queue)).toEqual({ waiting: 2, active: 0, delayed: 1, dead: 0 });

        const release = deferred();
        const consumer = driver.consume<string>(
          queue,
          async (d) => {
            if (d.body === "block") await release.promise;
            if (d.body === "fail") throw new NonRetriableError("unprocessable");
          },
          { concurrency: 1 },
        );
        await waitFor(depthIs({ active: 1, waiting: 1 }), 10_000, "one active message");
        expect(await driver.depth(queue)).toEqual({ waiting: 1, active: 1, delayed: 1, dead: 0 });
        release.resolve();
        await waitFor(depthIs({ dead: 1 }), 10_000, "the dead letter");
        await consumer.stop();
        expect(await driver.depth(queue)).toEqual({ waiting: 0, active: 0, delayed: 1, dead: 1 });
      });
    });
  });
}
