// Concurrent deliveries of one event (DESIGN.md: "inbox row per event (unique per source event
// id)"; "a repeat of an already-accepted event → 200 with the same ids"). Senders retry while a
// first delivery is still in flight, and several receiver replicas may take the copies at once:
// whatever the interleaving, one event row, one set of jobs (each enqueued, and run once), and
// every copy answered with the same ids.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SideEffectService, startSideEffectService } from "./fixtures/side-effects.js";
import { workflows as testWorkflows } from "./fixtures/test-workflows.js";
import { type Pipeline, signStandard, startPipeline, xeroDelivery } from "./harness.js";

const COPIES = 50;

let pipeline: Pipeline;
beforeAll(async () => {
  // No worker: jobs stay QUEUED, so queue depth counts exactly what was enqueued.
  pipeline = await startPipeline({ worker: false, workflows: testWorkflows });
});
afterAll(async () => {
  await pipeline?.close();
});

type Answer = Awaited<ReturnType<Pipeline["call"]>>;

/** All answers 2xx with one body; exactly one 202 (the copy that inserted), the rest 200. */
function expectOneAcceptance(answers: Answer[]) {
  const statuses = answers.map((a) => a.status);
  expect(
    statuses.filter((s) => s !== 202 && s !== 200),
    `unexpected answers: ${answers
      .filter((a) => a.status !== 202 && a.status !== 200)
      .map((a) => `${a.status} ${a.text}`)
      .slice(0, 3)
      .join(" | ")}`,
  ).toEqual([]);
  expect(statuses.filter((s) => s === 202)).toHaveLength(1);
  const first = answers[0]!.json;
  for (const a of answers) expect(a.json).toEqual(first);
  return first as { eventIds: string[]; jobIds: string[] };
}

/**
 * Messages waiting in the queue. At least one per job: the outbox relay may hand over a job a
 * second time (message id `<job>-o<updatedAt>`, not the receiver's `<job>`) when the receiver's
 * enqueue + `enqueuedAt` mark takes longer than the relay's grace period, as it can with 50
 * requests on a 4-connection pool. The worker's claim drops the extra message; the worker test
 * below checks the job still runs once.
 */
async function waiting(): Promise<number> {
  return (await pipeline.queue.depth("jobs")).waiting;
}

describe(`${COPIES} concurrent deliveries of one event`, () => {
  it("Xero (same event fields, a new envelope each time): one event, one job, enqueued", async () => {
    const t = await pipeline.setupTenant();
    const event = {
      resourceId: randomUUID(),
      tenantId: t.xeroTenantId,
      eventType: "CREATE",
      eventCategory: "CONTACT",
    };
    const depthBefore = await waiting();
    // Each copy has its own entropy (other bytes, own signature), as Xero's re-sends do.
    const deliveries = Array.from({ length: COPIES }, () => xeroDelivery(t.webhookKey, [event]));
    const answers = await Promise.all(
      deliveries.map((d) =>
        pipeline.call("POST", t.webhookPath, {
          body: d.body,
          headers: { "content-type": "application/json", "x-xero-signature": d.signature },
        }),
      ),
    );
    const ids = expectOneAcceptance(answers);
    expect(ids.eventIds).toHaveLength(1);
    expect(ids.jobIds).toHaveLength(1);

    expect(await pipeline.db.prisma.webhookEvent.count({ where: { endpointId: t.endpointId } })).toBe(1);
    const jobs = await pipeline.db.prisma.job.findMany({ where: { tenantId: t.tenantId } });
    expect(jobs.map((j) => [j.id, j.workflow, j.eventId])).toEqual([
      [ids.jobIds[0], "test-tick", ids.eventIds[0]],
    ]);
    expect(await waiting()).toBeGreaterThanOrEqual(depthBefore + 1);
  });

  it("Standard Webhooks (same webhook-id, same bytes): one event, one job, enqueued", async () => {
    const t = await pipeline.setupTenant();
    const endpoint = await pipeline.standardEndpoint(t.apiKey);
    const depthBefore = await waiting();
    const id = `msg_${randomUUID()}`;
    const body = JSON.stringify({ type: "test.quick", data: { service: "http://127.0.0.1:9", tag: "-c" } });
    const headers = { "content-type": "application/json", ...signStandard(endpoint.secret, id, body) };
    const answers = await Promise.all(
      Array.from({ length: COPIES }, () => pipeline.call("POST", endpoint.path, { body, headers })),
    );
    const ids = expectOneAcceptance(answers);
    expect(ids.eventIds).toHaveLength(1);
    expect(ids.jobIds).toHaveLength(1);
    expect(await pipeline.db.prisma.webhookEvent.count({ where: { endpointId: endpoint.id } })).toBe(1);
    expect(await pipeline.db.prisma.job.count({ where: { tenantId: t.tenantId } })).toBe(1);
    expect(await waiting()).toBeGreaterThanOrEqual(depthBefore + 1);
  });

  it("Standard Webhooks (same webhook-id, re-signed with other timestamps and bodies): the first one wins", async () => {
    const t = await pipeline.setupTenant();
    const endpoint = await pipeline.standardEndpoint(t.apiKey);
    const id = `msg_${randomUUID()}`;
    const now = Math.floor(Date.now() / 1000);
    const answers = await Promise.all(
      Array.from({ length: COPIES }, (_, i) => {
        const body = JSON.stringify({
          type: "test.quick",
          data: { service: "http://127.0.0.1:9", tag: `-${i}` },
        });
        return pipeline.call("POST", endpoint.path, {
          body,
          headers: {
            "content-type": "application/json",
            ...signStandard(endpoint.secret, id, body, now - (i % 60)),
          },
        });
      }),
    );
    const ids = expectOneAcceptance(answers);
    expect(ids.jobIds).toHaveLength(1);
    expect(await pipeline.db.prisma.webhookEvent.count({ where: { endpointId: endpoint.id } })).toBe(1);
    expect(await pipeline.db.prisma.job.count({ where: { tenantId: t.tenantId } })).toBe(1);
  });

  it("Standard Webhooks (new webhook-id per retry, one Idempotency-Key): one event, one job", async () => {
    const t = await pipeline.setupTenant();
    const endpoint = await pipeline.standardEndpoint(t.apiKey);
    const key = `idem-${randomUUID()}`;
    const body = JSON.stringify({ type: "test.quick", data: { service: "http://127.0.0.1:9" } });
    const answers = await Promise.all(
      Array.from({ length: COPIES }, () =>
        pipeline.call("POST", endpoint.path, {
          body,
          headers: {
            "content-type": "application/json",
            "idempotency-key": key,
            ...signStandard(endpoint.secret, `msg_${randomUUID()}`, body),
          },
        }),
      ),
    );
    const ids = expectOneAcceptance(answers);
    expect(ids.jobIds).toHaveLength(1);
    expect(await pipeline.db.prisma.webhookEvent.count({ where: { endpointId: endpoint.id } })).toBe(1);
    expect(await pipeline.db.prisma.job.count({ where: { tenantId: t.tenantId } })).toBe(1);
  });

  it("Xero batches sharing events, each with one new event: shared events stored once, every copy 202", async () => {
    const t = await pipeline.setupTenant();
    const shared = [randomUUID(), randomUUID()].map((resourceId) => ({
      resourceId,
      tenantId: t.xeroTenantId,
      eventType: "CREATE",
      eventCategory: "CONTACT",
    }));
    const own = Array.from({ length: COPIES }, () => ({
      resourceId: randomUUID(),
      tenantId: t.xeroTenantId,
      eventType: "CREATE",
      eventCategory: "CONTACT",
    }));
    const answers = await Promise.all(
      own.map((e) => {
        const d = xeroDelivery(t.webhookKey, [...shared, e]);
        return pipeline.call("POST", t.webhookPath, {
          body: d.body,
          headers: { "x-xero-signature": d.signature },
        });
      }),
    );
    expect(answers.map((a) => a.status).filter((s) => s !== 202)).toEqual([]);
    const sharedIds = answers.map((a) => JSON.stringify((a.json.eventIds as string[]).slice(0, 2)));
    expect(new Set(sharedIds).size).toBe(1);
    const sharedJobs = answers.map((a) => JSON.stringify((a.json.jobIds as string[]).slice(0, 2)));
    expect(new Set(sharedJobs).size).toBe(1);
    expect(await pipeline.db.prisma.webhookEvent.count({ where: { endpointId: t.endpointId } })).toBe(
      2 + COPIES,
    );
    expect(await pipeline.db.prisma.job.count({ where: { tenantId: t.tenantId } })).toBe(2 + COPIES);
  });

  it("Xero batches with the same two events in opposite orders: no error, each event stored once", async () => {
    const t = await pipeline.setupTenant();
    const [a, b] = [randomUUID(), randomUUID()].map((resourceId) => ({
      resourceId,
      tenantId: t.xeroTenantId,
      eventType: "CREATE",
      eventCategory: "CONTACT",
    }));
    const answers = await Promise.all(
      Array.from({ length: COPIES }, (_, i) => {
        const d = xeroDelivery(t.webhookKey, i % 2 ? [a!, b!] : [b!, a!]);
        return pipeline.call("POST", t.webhookPath, {
          body: d.body,
          headers: { "x-xero-signature": d.signature },
        });
      }),
    );
    const failures = answers.filter((x) => x.status !== 200 && x.status !== 202);
    expect(
      failures.map((x) => `${x.status} ${x.text}`),
      "every copy is answered 202/200 (a 5xx here is a deadlock between the inserts)",
    ).toEqual([]);
    expect(answers.filter((x) => x.status === 202)).toHaveLength(1);
    expect(await pipeline.db.prisma.webhookEvent.count({ where: { endpointId: t.endpointId } })).toBe(2);
    expect(await pipeline.db.prisma.job.count({ where: { tenantId: t.tenantId } })).toBe(2);
    // The same two ids, in each delivery's own order.
    const byResource = new Map<string, string>();
    for (const [i, x] of answers.entries()) {
      const order = i % 2 ? [a!, b!] : [b!, a!];
      for (const [k, id] of (x.json.eventIds as string[]).entries()) {
        const prev = byResource.get(order[k]!.resourceId);
        if (prev) expect(id).toBe(prev);
        else byResource.set(order[k]!.resourceId, id);
      }
    }
  });
});

describe(`${COPIES} concurrent deliveries with a worker running`, () => {
  let running: Pipeline;
  let service: SideEffectService;
  beforeAll(async () => {
    running = await startPipeline({ workflows: testWorkflows, concurrency: 8 });
    service = await startSideEffectService();
  });
  afterAll(async () => {
    await running?.close();
    await service?.close();
  });

  it("runs the one job once: one side effect, one attempt", async () => {
    const t = await running.setupTenant();
    const endpoint = await running.standardEndpoint(t.apiKey);
    const id = `msg_${randomUUID()}`;
    const body = JSON.stringify({ type: "test.quick", data: { service: service.url, tag: "-concurrent" } });
    const headers = { "content-type": "application/json", ...signStandard(endpoint.secret, id, body) };
    const answers = await Promise.all(
      Array.from({ length: COPIES }, () => running.call("POST", endpoint.path, { body, headers })),
    );
    const ids = expectOneAcceptance(answers);
    const job = await running.waitForJob(t.apiKey, ids.jobIds[0]!, (j) => j.status === "COMPLETED");
    expect(job.attempts).toBe(1);
    // Leave time for a duplicate message (see `waiting`) to be consumed: it must not run again.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(service.count("quick-concurrent")).toBe(1);
    expect(await running.db.prisma.job.count({ where: { tenantId: t.tenantId } })).toBe(1);
  });
});
