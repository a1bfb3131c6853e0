// Ingest under infrastructure faults (DESIGN.md "Guarantees we test"):
// - Redis down at accept time: webhooks are still answered 202 (rows committed in Postgres),
//   the outbox relay enqueues them when Redis is back, and every job runs exactly once.
// - Postgres down: webhooks are answered 503 + Retry-After (nothing half-accepted); once it is
//   back, the sender's retries of the same deliveries are accepted exactly once.
// Both use PRIVATE servers (a redis-server and a Postgres cluster of their own): the shared
// Redis and Postgres on the default ports are never stopped.
import { randomBytes, randomUUID } from "node:crypto";
import { createPrismaClient, migrate, type PrismaClient } from "@zixly/db";
import { createTestDatabase, type TestDatabase } from "@zixly/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPrivateRedis, type PrivateRedis } from "../packages/queue/src/test-support/redis-server.js";
import { type SideEffectService, startSideEffectService } from "./fixtures/side-effects.js";
import { workflows as testWorkflows } from "./fixtures/test-workflows.js";
import { REDIS_URL, xeroDelivery } from "./harness.js";
import { type CallResult, eventually, mapLimit } from "./support/http.js";
import { createPrivatePostgres, type PrivatePostgres } from "./support/private-postgres.js";
import { type Stack, startStack } from "./support/stack.js";

const quickBody = (service: string, tag: string) =>
  JSON.stringify({ type: "test.quick", timestamp: new Date().toISOString(), data: { service, tag } });

describe("Redis stopped while webhooks arrive", () => {
  let redis: PrivateRedis;
  let db: TestDatabase;
  let stack: Stack;
  let service: SideEffectService;

  beforeAll(async () => {
    redis = await createPrivateRedis();
    await redis.start();
    db = await createTestDatabase({ max: 8 });
    service = await startSideEffectService();
    stack = await startStack({
      prisma: db.prisma,
      redisUrl: redis.url,
      workflows: testWorkflows,
      concurrency: 16,
      relayIntervalMs: 200,
      enqueueTimeoutMs: 1_000,
    });
  });
  afterAll(async () => {
    // Redis back up first so the worker and queue can close cleanly.
    await redis?.start().catch(() => undefined);
    await stack?.close();
    await service?.close();
    await db?.drop();
    await redis?.dispose();
  });

  it("answers 202 to 200 deliveries with Redis down, enqueues nothing, then runs each job exactly once when Redis is back", async () => {
    const { apiKey } = await stack.createTenant();
    const endpoint = await stack.standardEndpoint(apiKey);

    // The pipeline works on this private Redis before the outage.
    const warm = endpoint.delivery(quickBody(service.url, "-warm"), `msg_${randomUUID()}`);
    const warmRes = await stack.call("POST", endpoint.path, warm);
    expect(warmRes.status).toBe(202);
    const warmJob = (warmRes.json.jobIds as string[])[0]!;
    await eventually(
      async () => (await db.prisma.job.findUnique({ where: { id: warmJob } }))?.status === "COMPLETED",
      15_000,
      "the warm-up job to complete",
    );

    await redis.kill();

    const tags = Array.from({ length: 200 }, (_, i) => `-outage-${i}`);
    const started = Date.now();
    const answers = await mapLimit(tags, 40, (tag) =>
      stack.call(
        "POST",
        endpoint.path,
        endpoint.delivery(quickBody(service.url, tag), `msg_${randomUUID()}`),
      ),
    );
    const acceptMs = Date.now() - started;
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.filter((s) => s !== 202),
      `non-202 answers: ${JSON.stringify(statuses)}`,
    ).toEqual([]);
    const jobIds = answers.map((a) => {
      expect(a.json.eventIds).toHaveLength(1);
      expect(a.json.jobIds).toHaveLength(1);
      return (a.json.jobIds as string[])[0]!;
    });
    expect(new Set(jobIds).size).toBe(200);
    // Redis being down must not make every delivery wait out a long timeout.
    expect(acceptMs).toBeLessThan(30_000);

    // Committed in Postgres, handed to no queue: enqueuedAt is the outbox marker.
    const rows = await db.prisma.job.findMany({
      where: { id: { in: jobIds } },
      select: { status: true, enqueuedAt: true, workflow: true },
    });
    expect(rows).toHaveLength(200);
    expect(
      rows.every((r) => r.status === "QUEUED" && r.enqueuedAt === null && r.workflow === "test-quick"),
    ).toBe(true);
    // The relay keeps failing while Redis is down; still nothing is marked enqueued or run.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await db.prisma.job.count({ where: { id: { in: jobIds }, enqueuedAt: { not: null } } })).toBe(0);
    expect(tags.reduce((n, tag) => n + service.count(`quick${tag}`), 0)).toBe(0);

    // Redis back on the same port: the relay hands the jobs over and the worker resumes by itself.
    const restarted = Date.now();
    await redis.start();
    await eventually(
      async () => {
        const done = await db.prisma.job.count({ where: { id: { in: jobIds }, status: "COMPLETED" } });
        return done === 200;
      },
      40_000,
      "all 200 jobs to complete after Redis restarted",
      250,
    );
    const recoveryMs = Date.now() - restarted;
    expect(recoveryMs).toBeLessThan(40_000);

    const finished = await db.prisma.job.findMany({
      where: { id: { in: jobIds } },
      select: {
        status: true,
        attempts: true,
        steps: { select: { name: true, attempt: true } },
      },
    });
    // (Not asserted: every job's `enqueuedAt`. An enqueue that times out while Redis reconnects
    // can still land afterwards, so a job may run with its outbox marker never set; harmless.)
    for (const job of finished) {
      expect(job).toMatchObject({ status: "COMPLETED", attempts: 1 });
      expect(job.steps).toEqual([{ name: "only", attempt: 1 }]);
    }
    // Exactly once: one side effect per job, none twice (relay racing itself, consumer reconnect).
    const perTag = tags.map((tag) => service.count(`quick${tag}`));
    expect(
      perTag.filter((n) => n !== 1),
      "side effects per job other than exactly 1",
    ).toEqual([]);
    // Give a late duplicate delivery time to show itself.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(tags.reduce((n, tag) => n + service.count(`quick${tag}`), 0)).toBe(200);
    expect(await db.prisma.job.count({ where: { id: { in: jobIds }, attempts: { gt: 1 } } })).toBe(0);

    // The receiver's own producer recovered too: a new delivery is enqueued at accept time.
    const after = await stack.call(
      "POST",
      endpoint.path,
      endpoint.delivery(quickBody(service.url, "-after"), `msg_${randomUUID()}`),
    );
    expect(after.status).toBe(202);
    // The outbox mark is written in a batch just after the answer.
    const afterId = (after.json.jobIds as string[])[0]!;
    await eventually(
      async () => (await db.prisma.job.findUniqueOrThrow({ where: { id: afterId } })).enqueuedAt !== null,
      5_000,
      "the post-recovery job to be marked enqueued",
    );
    await eventually(() => service.count("quick-after") === 1, 10_000, "the post-recovery job to run");
  }, 90_000);

  // While Redis is down the producer fails at once (its connection is known to be
  // reconnecting), so a webhook is answered promptly — within Xero's 5-second limit — and the
  // outbox takes over.
  it("answers deliveries promptly while Redis is down with the production enqueue timeout", async () => {
    const defaults = await startStack({
      prisma: db.prisma,
      redisUrl: redis.url,
      worker: false,
      workflows: testWorkflows,
    });
    try {
      const { apiKey } = await defaults.createTenant("Defaults");
      const endpoint = await defaults.standardEndpoint(apiKey);
      await redis.kill();
      const t0 = Date.now();
      const res = await defaults.call(
        "POST",
        endpoint.path,
        endpoint.delivery(quickBody(service.url, "-latency"), `msg_${randomUUID()}`),
      );
      const latency = Date.now() - t0;
      expect(res.status).toBe(202);
      expect(res.json.jobIds).toHaveLength(1); // a job to enqueue, so the queue is really asked
      expect(latency, `answered after ${latency} ms`).toBeLessThan(2_000);
    } finally {
      await redis.start();
      await defaults.close();
    }
  }, 40_000);
});

describe("Postgres stopped while webhooks arrive", () => {
  let pg: PrivatePostgres;
  let prisma: PrismaClient;
  let stack: Stack;
  let service: SideEffectService;

  beforeAll(async () => {
    pg = await createPrivatePostgres();
    await pg.start();
    await migrate(pg.url);
    prisma = createPrismaClient(pg.url, { max: 4 });
    service = await startSideEffectService();
    stack = await startStack({ prisma, redisUrl: REDIS_URL, workflows: testWorkflows, concurrency: 2 });
  });
  afterAll(async () => {
    await pg?.start().catch(() => undefined);
    await stack?.close();
    await service?.close();
    await prisma?.$disconnect().catch(() => undefined);
    await pg?.dispose();
  });

  function expectUnavailable(res: CallResult, what: string) {
    expect(res.status, `${what}: ${res.status} ${res.text}`).toBe(503);
    const retryAfter = res.headers.get("retry-after");
    expect(retryAfter, `${what}: Retry-After`).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(res.json.error).toEqual({ code: expect.any(String), message: expect.any(String) });
  }

  it("answers 503 + Retry-After while it is down; after restart the same deliveries are accepted exactly once", async () => {
    const { apiKey } = await stack.createTenant();
    const standard = await stack.standardEndpoint(apiKey);
    const xeroKey = randomBytes(48).toString("base64");
    const xeroRes = await stack.call("POST", "/api/endpoints", {
      token: apiKey,
      body: { source: "xero", name: "Xero", secret: xeroKey },
    });
    expect(xeroRes.status).toBe(201);
    const xeroPath = `/webhooks/${xeroRes.json.id as string}`;

    // The deliveries the senders will retry: Xero re-sends the same bytes and signature; a
    // Standard Webhooks sender re-signs with a new timestamp under the same webhook-id.
    const xero = xeroDelivery(xeroKey, [
      { resourceId: randomUUID(), tenantId: randomUUID(), eventType: "CREATE", eventCategory: "CONTACT" },
    ]);
    const xeroSend = () =>
      stack.call("POST", xeroPath, {
        body: xero.body,
        headers: { "content-type": "application/json", "x-xero-signature": xero.signature },
      });
    const webhookId = `msg_${randomUUID()}`;
    const standardBody = quickBody(service.url, "-pg");
    const standardSend = () => stack.call("POST", standard.path, standard.delivery(standardBody, webhookId));

    await pg.stop("fast");

    expectUnavailable(await xeroSend(), "xero delivery");
    expectUnavailable(await standardSend(), "standard delivery");
    // A burst: every answer a 503 (never a 500, never a hang).
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? xeroSend() : standardSend())),
    );
    for (const [i, res] of burst.entries()) expectUnavailable(res, `burst ${i}`);
    // The API is unavailable the same way, and readiness says why.
    expectUnavailable(await stack.call("GET", "/api/jobs", { token: apiKey }), "GET /api/jobs");
    const ready = await stack.call("GET", "/ready");
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ checks: { database: "unavailable" } });

    await pg.start();

    // Nothing was half-accepted while the database was down.
    expect(await prisma.webhookEvent.count()).toBe(0);
    expect(await prisma.job.count()).toBe(0);

    // Xero: the same bytes and signature.
    const x1 = await xeroSend();
    expect(x1.status, x1.text).toBe(202);
    const x2 = await xeroSend();
    expect(x2.status, x2.text).toBe(200);
    expect(x2.json).toEqual(x1.json);
    expect(x1.json.jobIds).toHaveLength(1); // contact.created → test-tick

    // Standard Webhooks: the same webhook-id, signed again.
    const s1 = await standardSend();
    expect(s1.status, s1.text).toBe(202);
    const s2 = await standardSend();
    expect(s2.status, s2.text).toBe(200);
    expect(s2.json).toEqual(s1.json);

    expect(await prisma.webhookEvent.count({ where: { endpointId: xeroRes.json.id as string } })).toBe(1);
    expect(await prisma.webhookEvent.count({ where: { endpointId: standard.id } })).toBe(1);
    expect(await prisma.job.count()).toBe(2);

    // And the accepted jobs run, once.
    const jobIds = [...(x1.json.jobIds as string[]), ...(s1.json.jobIds as string[])];
    await eventually(
      async () => (await prisma.job.count({ where: { id: { in: jobIds }, status: "COMPLETED" } })) === 2,
      20_000,
      "both accepted jobs to complete",
    );
    expect(service.count("quick-pg")).toBe(1);
  }, 60_000);
});
