// SQS-driver cases the shared contract cannot express: delays and backoffs longer than one SQS
// delay, the redrive policy as a safety net, messages from other producers, batching, outages
// (on private stand-ins this file starts and stops), and turning deduplication off.
import "./test-support/sqs-sdk-guard.js";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { RetryAfterError } from "@zixly/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { QueueUnavailableError } from "./errors.js";
import type { Consumer, QueueDriver } from "./queue-driver.js";
import { createSqsDriver, type SqsDriverOptions } from "./sqs-driver.js";
import type { SqsQueueUrls } from "./sqs-queue-urls.js";
import {
  createTestPendingIds,
  type SqsBackend,
  startSqsBackend,
  type TestPendingIds,
  testQueues,
} from "./test-support/sqs-fixtures.js";
import { type SqsStandIn, startSqsStandIn } from "./test-support/sqs-stand-in.js";

const ON_STAND_IN = !process.env.LOCALSTACK_ENDPOINT;

let backend: SqsBackend;
let pendingIds: TestPendingIds;
const cleanups: (() => Promise<void>)[] = [];
const errors: Error[] = [];

beforeAll(async () => {
  backend = await startSqsBackend();
  pendingIds = await createTestPendingIds();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  errors.length = 0;
});

afterAll(async () => {
  await pendingIds?.dispose();
  await backend?.close();
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** A driver on the shared backend with its own queues (created on first use, deleted after the test). */
function driverFor(overrides: Partial<SqsDriverOptions> = {}, maxReceiveCount?: number) {
  const queues = testQueues(backend, maxReceiveCount ? { maxReceiveCount } : {});
  const driver = createSqsDriver({
    region: backend.region,
    endpoint: backend.endpoint,
    credentials: backend.credentials,
    queueUrls: queues.resolve,
    pendingIds: pendingIds.store,
    visibilityTimeoutSec: 2,
    waitTimeSeconds: 1,
    onError: (error) => errors.push(error),
    ...overrides,
  });
  cleanups.push(async () => {
    await driver.close({ timeoutMs: 0 });
    await queues.deleteAll();
  });
  return { driver, queues };
}

function consume<T>(
  driver: QueueDriver,
  queue: string,
  seen: { id: string; body: T; attempt: number; at: number }[],
) {
  const consumer: Consumer = driver.consume<T>(
    queue,
    async (d) => {
      seen.push({ id: d.id, body: d.body, attempt: d.attempt, at: Date.now() });
    },
    { concurrency: 4 },
  );
  cleanups.push(() => consumer.stop({ timeoutMs: 0 }));
  return consumer;
}

describe("sqs driver: delays longer than one SQS delay", () => {
  it("holds a message until its delay has passed, hopping from one SQS delay to the next", async () => {
    // One SQS delay = 1 s here instead of 900 s, so a 2.5 s delay needs three sends.
    const { driver } = driverFor({ maxDelaySeconds: 1 });
    const queue = randomUUID();
    const before = Date.now();
    await driver.enqueue(queue, [{ id: "far", body: "x", delayMs: 2_500 }]);
    expect(await driver.depth(queue)).toMatchObject({ delayed: 1, waiting: 0 });
    const seen: { id: string; body: string; attempt: number; at: number }[] = [];
    consume(driver, queue, seen);
    await waitFor(() => seen.length === 1, 15_000, "the delivery");
    expect(seen[0]!.at - before).toBeGreaterThanOrEqual(2_500);
    expect(seen[0]!.attempt).toBe(1);
    await sleep(500);
    expect(seen).toHaveLength(1);
  });

  it("waits out a RetryAfterError hint longer than one SQS delay, and counts the attempt once", async () => {
    const { driver } = driverFor({ maxDelaySeconds: 1 });
    const queue = randomUUID();
    await driver.enqueue(queue, [{ id: "throttled", body: 1, attempts: 3 }]);
    const seen: { attempt: number; at: number }[] = [];
    const consumer = driver.consume<number>(
      queue,
      async (d) => {
        seen.push({ attempt: d.attempt, at: Date.now() });
        if (d.attempt === 1) throw new RetryAfterError("429", 2_200);
      },
      { concurrency: 1 },
    );
    cleanups.push(() => consumer.stop({ timeoutMs: 0 }));
    await waitFor(() => seen.length === 2, 15_000, "the retry");
    expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(2_200);
  });
});

describe("sqs driver: dead letters", () => {
  it("the redrive policy catches a message that keeps losing its lease (crash loop), as a safety net", async () => {
    // maxReceiveCount 2: two receives without an outcome, and SQS moves it on the third.
    const { driver } = driverFor({ visibilityTimeoutSec: 1 }, 2);
    const queue = randomUUID();
    await driver.enqueue(queue, [{ id: "poison", body: "p", attempts: 5 }]);
    for (let crash = 1; crash <= 2; crash += 1) {
      let started = false;
      const doomed = driver.consume<string>(
        queue,
        () => {
          started = true;
          return new Promise<void>(() => undefined);
        },
        { concurrency: 1 },
      );
      await waitFor(() => started, 10_000, `receive ${crash}`);
      await doomed.stop({ timeoutMs: 0 });
    }
    const seen: { id: string; body: string; attempt: number; at: number }[] = [];
    consume(driver, queue, seen);
    await waitFor(async () => (await driver.depth(queue)).dead === 1, 10_000, "the redrive to the DLQ");
    expect(seen).toEqual([]);
    const dead = await driver.deadLetters!(queue);
    expect(dead).toEqual([
      expect.objectContaining({ id: "poison", body: "p", error: expect.stringContaining("redrive policy") }),
    ]);
  });

  it("dead-letters a message another producer sent without the driver's attributes", async () => {
    const { driver, queues } = driverFor();
    const queue = randomUUID();
    const urls: SqsQueueUrls = await queues.resolve(queue);
    await backend.admin.send(new SendMessageCommand({ QueueUrl: urls.url, MessageBody: "not json at all" }));
    const seen: { id: string; body: unknown; attempt: number; at: number }[] = [];
    consume(driver, queue, seen);
    await waitFor(async () => (await driver.depth(queue)).dead === 1, 10_000, "the dead letter");
    expect(seen).toEqual([]);
    const [dead] = await driver.deadLetters!(queue);
    expect(dead).toMatchObject({
      body: "not json at all",
      error: expect.stringContaining("not a Zixly message"),
    });
  });
});

describe("sqs driver: batching", () => {
  it.runIf(ON_STAND_IN)("sends, receives and deletes in batches of up to 10", async () => {
    const standIn = await startSqsStandIn();
    cleanups.push(() => standIn.close());
    const queues = testQueues({
      ...backend,
      endpoint: standIn.endpoint,
      admin: createAdmin(standIn.endpoint),
    });
    const driver = createSqsDriver({
      region: backend.region,
      endpoint: standIn.endpoint,
      credentials: backend.credentials,
      queueUrls: queues.resolve,
      pendingIds: pendingIds.store,
      visibilityTimeoutSec: 2,
      waitTimeSeconds: 1,
    });
    cleanups.push(() => driver.close({ timeoutMs: 0 }));
    const queue = randomUUID();
    const ids = Array.from({ length: 25 }, (_, i) => `batch-${i}`);
    await driver.enqueue(
      queue,
      ids.map((id) => ({ id, body: id })),
    );
    expect(standIn.calls.get("SendMessageBatch")).toBe(3);
    const seen: { id: string; body: string; attempt: number; at: number }[] = [];
    const consumer = driver.consume<string>(
      queue,
      async (d) => {
        seen.push({ id: d.id, body: d.body, attempt: d.attempt, at: Date.now() });
      },
      { concurrency: 10 },
    );
    await waitFor(() => seen.length === ids.length, 10_000, "all deliveries");
    await consumer.stop();
    expect(seen.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(standIn.calls.get("ReceiveMessage")!).toBeLessThan(ids.length);
    expect(standIn.calls.get("DeleteMessageBatch")!).toBeLessThan(ids.length);
    expect(await driver.depth(queue)).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it("rejects a message too large for SQS before sending anything", async () => {
    const { driver } = driverFor();
    const queue = randomUUID();
    await expect(driver.enqueue(queue, [{ id: "big", body: "x".repeat(300_000) }])).rejects.toThrow(
      RangeError,
    );
    expect(await driver.depth(queue)).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });
});

describe("sqs driver: deduplication", () => {
  it("without a pending-id store, the same id enqueued twice is delivered twice (documented)", async () => {
    const { driver } = driverFor({ pendingIds: null });
    const queue = randomUUID();
    await driver.enqueue(queue, [{ id: "twice", body: 1 }]);
    await driver.enqueue(queue, [{ id: "twice", body: 2 }]);
    const seen: { id: string; body: number; attempt: number; at: number }[] = [];
    consume(driver, queue, seen);
    await waitFor(() => seen.length === 2, 10_000, "both deliveries");
    expect(seen.map((s) => s.body).sort()).toEqual([1, 2]);
  });

  it("two producers racing on one id: one message", async () => {
    const { driver, queues } = driverFor();
    const other = createSqsDriver({
      region: backend.region,
      endpoint: backend.endpoint,
      credentials: backend.credentials,
      queueUrls: queues.resolve,
      pendingIds: pendingIds.store,
    });
    cleanups.push(() => other.close());
    const queue = randomUUID();
    await Promise.all([
      driver.enqueue(queue, [{ id: "race", body: "a" }]),
      other.enqueue(queue, [{ id: "race", body: "b" }]),
      driver.enqueue(queue, [{ id: "race", body: "c" }]),
    ]);
    expect(await driver.depth(queue)).toMatchObject({ waiting: 1 });
  });
});

/** A client for set-up calls on a private stand-in. */
function createAdmin(endpoint: string): SQSClient {
  const client = new SQSClient({ region: backend.region, endpoint, credentials: backend.credentials });
  cleanups.push(async () => client.destroy());
  return client;
}

describe.runIf(ON_STAND_IN)("sqs driver: SQS outage", () => {
  let standIn: SqsStandIn;
  let port: number;

  const restart = async () => {
    standIn = await startSqsStandIn({ port });
    cleanups.push(() => standIn.close());
  };

  it("rejects enqueue promptly with QueueUnavailableError and gives the id back", async () => {
    standIn = await startSqsStandIn();
    port = Number(new URL(standIn.endpoint).port);
    const queues = testQueues({
      ...backend,
      endpoint: standIn.endpoint,
      admin: createAdmin(standIn.endpoint),
    });
    const queue = randomUUID();
    const urls = await queues.resolve(queue);
    const driver = createSqsDriver({
      region: backend.region,
      endpoint: standIn.endpoint,
      credentials: backend.credentials,
      queueUrls: { [queue]: urls },
      pendingIds: pendingIds.store,
      enqueueTimeoutMs: 2_000,
      onError: (error) => errors.push(error),
    });
    cleanups.push(() => driver.close({ timeoutMs: 0 }));
    await standIn.close();

    const started = Date.now();
    const failure = await driver.enqueue(queue, [{ id: "during", body: 1 }]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(QueueUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_500);
    const { rows } = await pendingIds.pool.query(`SELECT id FROM ${pendingIds.table} WHERE queue = $1`, [
      urls.url,
    ]);
    expect(rows).toEqual([]);
  });

  it("a consumer rides out an outage: its running handler's lease is reported lost, and it resumes afterwards", async () => {
    standIn = await startSqsStandIn();
    port = Number(new URL(standIn.endpoint).port);
    const admin = createAdmin(standIn.endpoint);
    const queue = randomUUID();
    const queues = testQueues({ ...backend, endpoint: standIn.endpoint, admin });
    const urls = await queues.resolve(queue);
    const driver = createSqsDriver({
      region: backend.region,
      endpoint: standIn.endpoint,
      credentials: backend.credentials,
      queueUrls: { [queue]: urls },
      pendingIds: pendingIds.store,
      visibilityTimeoutSec: 1,
      waitTimeSeconds: 1,
      onError: (error) => errors.push(error),
    });
    cleanups.push(() => driver.close({ timeoutMs: 0 }));
    const seen: string[] = [];
    let signal: AbortSignal | undefined;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const consumer = driver.consume<number>(
      queue,
      async (d) => {
        seen.push(d.id);
        if (d.id === "before") {
          signal = d.signal;
          await released;
        }
      },
      { concurrency: 2 },
    );
    cleanups.push(() => consumer.stop({ timeoutMs: 0 }));
    await driver.enqueue(queue, [{ id: "before", body: 1 }]);
    await waitFor(() => signal !== undefined, 10_000, "the handler to start");

    await standIn.close();
    // The heartbeat cannot extend the lease; past the visibility timeout the handler is told.
    await waitFor(() => signal!.aborted, 10_000, "the lease-lost signal");
    expect(String(signal!.reason)).toContain("lease lost");
    release();

    await restart();
    // The restarted stand-in starts empty: re-create the queues under the same URLs.
    await testQueues({
      ...backend,
      endpoint: standIn.endpoint,
      admin: createAdmin(standIn.endpoint),
    }).resolve(queue);
    await driver.enqueue(queue, [{ id: "after", body: 2 }]);
    await waitFor(() => seen.includes("after"), 15_000, "the delivery after the outage");
    expect(errors.some((e) => e.message.includes("receiving from"))).toBe(true);
  });
});
