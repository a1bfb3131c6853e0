// The outbox relay against real Postgres. The queue is a small recording double (what was
// handed over, in which order); the relay's behaviour with real Redis going away and coming
// back is covered end to end in e2e/ingest-faults.e2e.test.ts.
import { randomUUID } from "node:crypto";
import { createLogger } from "@zixly/core";
import { createTestDatabase, type TestDatabase } from "@zixly/db/testing";
import type { QueueDriver, QueueMessage } from "@zixly/queue";
import { createWorkflowRegistry, defineWorkflow, JOBS_QUEUE } from "@zixly/workflows";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { startOutboxRelay } from "./outbox-relay.js";

let db: TestDatabase;
const tenants = [randomUUID(), randomUUID()];
const registry = createWorkflowRegistry([
  defineWorkflow({
    id: "relay-test",
    trigger: { source: "shopify", event: "orders.create" },
    input: z.object({}).passthrough(),
    async run() {
      return null;
    },
  }),
]);
const log = createLogger({ name: "outbox-relay-test", level: "silent" });

function recordingQueue(options: { failing?: boolean } = {}) {
  const handed: Array<QueueMessage<unknown>> = [];
  const queue = {
    async enqueue<T>(name: string, messages: readonly QueueMessage<T>[]) {
      if (options.failing) throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
      expect(name).toBe(JOBS_QUEUE);
      handed.push(...(messages as readonly QueueMessage<unknown>[]));
    },
  } as unknown as QueueDriver;
  return { queue, handed };
}

/** A relay that only runs when the test calls `runOnce` (the timer's interval is a minute). */
const relayOn = (queue: QueueDriver, opts: { graceMs: number; batchSize?: number }) =>
  startOutboxRelay({ prisma: db.prisma, queue, registry, log, intervalMs: 60_000, ...opts });

async function job(
  tenantId: string,
  opts: { ageMs: number; enqueued?: boolean; status?: "QUEUED" | "COMPLETED" },
) {
  const created = await db.prisma.job.create({
    data: {
      tenantId,
      workflow: "relay-test",
      input: {},
      maxAttempts: 3,
      status: opts.status ?? "QUEUED",
      createdAt: new Date(Date.now() - opts.ageMs),
      enqueuedAt: opts.enqueued ? new Date() : null,
    },
  });
  return created.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  for (const id of tenants) await db.prisma.tenant.create({ data: { id, name: id } });
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.prisma.job.deleteMany();
});

describe("outbox relay", () => {
  it("hands over every tenant's un-enqueued jobs past the grace period, oldest first, and marks them", async () => {
    const oldA = await job(tenants[0]!, { ageMs: 60_000 });
    const oldB = await job(tenants[1]!, { ageMs: 30_000 });
    const fresh = await job(tenants[0]!, { ageMs: 0 });
    await job(tenants[0]!, { ageMs: 60_000, enqueued: true });
    await job(tenants[1]!, { ageMs: 60_000, status: "COMPLETED" });
    const { queue, handed } = recordingQueue();
    const relay = relayOn(queue, { graceMs: 5_000 });
    try {
      expect(await relay.runOnce()).toBe(2);
    } finally {
      await relay.stop();
    }
    expect(handed.map((m) => (m.body as { jobId: string }).jobId)).toEqual([oldA, oldB]);
    // One message id per pending state: a second relay of the same state dedupes in the queue.
    expect(handed.every((m) => m.id?.includes("-o"))).toBe(true);
    const marked = await db.prisma.job.findMany({ where: { id: { in: [oldA, oldB, fresh] } } });
    expect(Object.fromEntries(marked.map((j) => [j.id, j.enqueuedAt !== null]))).toEqual({
      [oldA]: true,
      [oldB]: true,
      [fresh]: false,
    });
  });

  it("pages through a backlog larger than one batch", async () => {
    for (let i = 0; i < 7; i++) await job(tenants[i % 2]!, { ageMs: 10_000 + i });
    const { queue, handed } = recordingQueue();
    const relay = relayOn(queue, { graceMs: 1_000, batchSize: 3 });
    try {
      expect(await relay.runOnce()).toBe(7);
      expect(await relay.runOnce()).toBe(0);
    } finally {
      await relay.stop();
    }
    expect(new Set(handed.map((m) => (m.body as { jobId: string }).jobId)).size).toBe(7);
  });

  it("leaves jobs un-marked while the queue refuses them, for the next pass", async () => {
    const id = await job(tenants[0]!, { ageMs: 10_000 });
    const relay = relayOn(recordingQueue({ failing: true }).queue, { graceMs: 1_000 });
    try {
      await expect(relay.runOnce()).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await relay.stop();
    }
    expect((await db.prisma.job.findUniqueOrThrow({ where: { id } })).enqueuedAt).toBeNull();
  });
});
