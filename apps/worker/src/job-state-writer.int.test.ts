import { createTestDatabase, type TestDatabase } from "@zixly/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobStateWriter } from "./job-state-writer.js";

let db: TestDatabase;
let tenantId: string;
let endpointId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const tenant = await db.prisma.tenant.create({ data: { name: "Writer" } });
  tenantId = tenant.id;
  const endpoint = await db.prisma.webhookEndpoint.create({
    data: { tenantId, source: "shopify", name: "Shop" },
  });
  endpointId = endpoint.id;
});
afterAll(async () => {
  await db?.drop();
});

let seq = 0;
/** A job made the way the receiver makes them: input NULL, the payload in its inbox event. */
async function eventJob(payload: object = { id: ++seq }): Promise<string> {
  const event = await db.prisma.webhookEvent.create({
    data: {
      tenantId,
      endpointId,
      source: "shopify",
      eventType: "orders.create",
      dedupeKey: `k-${++seq}`,
      payload,
    },
  });
  const job = await db.prisma.job.create({
    data: { tenantId, eventId: event.id, workflow: "w", maxAttempts: 3 },
  });
  return job.id;
}

describe("createJobStateWriter (real Postgres)", () => {
  it("claims concurrent jobs in one statement; each caller gets its own job, with the event's payload as input", async () => {
    const ids = await Promise.all([1, 2, 3].map((n) => eventJob({ order: n })));
    const writer = createJobStateWriter(db.prisma, { leaseMs: 30_000 });
    const claimed = await Promise.all(ids.map((id) => writer.claim(id)));
    expect(claimed.map((c) => c?.id)).toEqual(ids);
    expect(claimed.map((c) => c?.input)).toEqual([{ order: 1 }, { order: 2 }, { order: 3 }]);
    expect(claimed.every((c) => c?.attempts === 1 && c.has_steps === false && !c.cancel_requested)).toBe(
      true,
    );
    const rows = await db.prisma.job.findMany({ where: { id: { in: ids } } });
    expect(rows.every((r) => r.status === "RUNNING" && r.leaseExpiresAt !== null)).toBe(true);
  });

  it("gives a job claimed twice in one batch (a duplicate message) to one caller only", async () => {
    const id = await eventJob();
    const writer = createJobStateWriter(db.prisma, { leaseMs: 30_000 });
    const [first, second] = await Promise.all([writer.claim(id), writer.claim(id)]);
    expect([first?.id, second?.id].filter(Boolean)).toEqual([id]);
    expect((await db.prisma.job.findUniqueOrThrow({ where: { id } })).attempts).toBe(1);
  });

  it("refuses finished jobs and keeps a job's own input when it has one", async () => {
    const done = await eventJob();
    await db.prisma.job.update({ where: { id: done }, data: { status: "COMPLETED" } });
    const own = await db.prisma.job.create({
      data: { tenantId, workflow: "w", maxAttempts: 1, input: { manual: true } },
    });
    const writer = createJobStateWriter(db.prisma, { leaseMs: 30_000 });
    const [a, b] = await Promise.all([writer.claim(done), writer.claim(own.id)]);
    expect(a).toBeUndefined();
    expect(b?.input).toEqual({ manual: true });
  });

  it("writes step memos and completions of concurrent jobs, and a value Postgres refuses fails only its own caller", async () => {
    const ids = await Promise.all([1, 2, 3].map(() => eventJob()));
    const writer = createJobStateWriter(db.prisma, { leaseMs: 30_000 });
    await Promise.all(ids.map((id) => writer.claim(id)));
    const startedAt = new Date(Date.now() - 1_000);
    const steps = await Promise.allSettled(
      ids.map((jobId, i) =>
        writer.stepCompleted({
          jobId,
          name: "fetch",
          attempt: 1,
          // JSON can carry "\u0000"; Postgres jsonb cannot store it.
          output: i === 1 ? { text: "nul \u0000 here" } : { n: i },
          startedAt,
        }),
      ),
    );
    expect(steps.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const memos = await db.prisma.jobStep.findMany({
      where: { jobId: { in: ids } },
      orderBy: { output: "asc" },
    });
    expect(memos.map((m) => [m.jobId, m.status, m.output])).toEqual(
      expect.arrayContaining([
        [ids[0], "COMPLETED", { n: 0 }],
        [ids[2], "COMPLETED", { n: 2 }],
      ]),
    );
    expect(memos).toHaveLength(2);
    expect(memos[0]!.startedAt.getTime()).toBe(startedAt.getTime());

    await Promise.all([writer.complete(ids[0]!, { ok: 0 }), writer.complete(ids[2]!, undefined)]);
    const finished = await db.prisma.job.findMany({ where: { id: { in: [ids[0]!, ids[2]!] } } });
    expect(finished.map((j) => j.status)).toEqual(["COMPLETED", "COMPLETED"]);
    expect(finished.find((j) => j.id === ids[0])?.result).toEqual({ ok: 0 });
    expect(finished.every((j) => j.completedAt !== null && j.leaseExpiresAt === null)).toBe(true);
  });

  it("completes a job together with its last memos, in one transaction", async () => {
    const id = await eventJob();
    const writer = createJobStateWriter(db.prisma, { leaseMs: 30_000 });
    await writer.claim(id);
    const startedAt = new Date();
    await writer.complete(id, { done: true }, [
      { jobId: id, name: "last", attempt: 1, output: { n: 1 }, startedAt },
    ]);
    const job = await db.prisma.job.findUniqueOrThrow({ where: { id }, include: { steps: true } });
    expect(job.status).toBe("COMPLETED");
    expect(job.steps.map((s) => [s.name, s.status, s.output])).toEqual([["last", "COMPLETED", { n: 1 }]]);

    // A memo Postgres refuses fails the completion too: the job is not COMPLETED without it.
    const other = await eventJob();
    await writer.claim(other);
    await expect(
      writer.complete(other, {}, [{ jobId: other, name: "bad", attempt: 1, output: "\u0000", startedAt }]),
    ).rejects.toThrow();
    expect((await db.prisma.job.findUniqueOrThrow({ where: { id: other } })).status).toBe("RUNNING");
  });

  it("with a tenant concurrency limit, claims one at a time and never exceeds the limit", async () => {
    const ids = await Promise.all([1, 2, 3, 4].map(() => eventJob()));
    await db.prisma.job.updateMany({
      where: { tenantId, status: "RUNNING" },
      data: { status: "COMPLETED" },
    });
    const writer = createJobStateWriter(db.prisma, { leaseMs: 30_000, tenantConcurrency: 2 });
    const claimed = await Promise.all(ids.map((id) => writer.claim(id)));
    expect(claimed.filter(Boolean)).toHaveLength(2);
  });
});
