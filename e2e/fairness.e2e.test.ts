import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workflows as testWorkflows } from "./fixtures/test-workflows.js";
import { type Pipeline, startPipeline, xeroDelivery } from "./harness.js";

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ workflows: testWorkflows, concurrency: 4 });
});
afterAll(async () => {
  await pipeline?.close();
});

async function burst(
  t: Awaited<ReturnType<Pipeline["setupTenant"]>>,
  total: number,
  perRequest = 100,
): Promise<string[]> {
  const jobIds: string[] = [];
  for (let sent = 0; sent < total; sent += perRequest) {
    const events = Array.from({ length: Math.min(perRequest, total - sent) }, () => ({
      resourceId: randomUUID(),
      tenantId: t.xeroTenantId,
      eventType: "CREATE",
      eventCategory: "CONTACT",
    }));
    const { body, signature } = xeroDelivery(t.webhookKey, events);
    const res = await pipeline.call("POST", t.webhookPath, {
      body,
      headers: { "x-xero-signature": signature },
    });
    expect(res.status).toBe(202);
    jobIds.push(...(res.json.jobIds as string[]));
  }
  return jobIds;
}

describe("fairness between tenants", () => {
  it("runs a small tenant's jobs before a big tenant's backlog is half done", {
    timeout: 120_000,
  }, async () => {
    const a = await pipeline.setupTenant("Big burst");
    const b = await pipeline.setupTenant("Small");
    const aJobs = await burst(a, 2_000);
    const bJobs = await burst(b, 10, 10);
    expect(aJobs).toHaveLength(2_000);
    expect(bJobs).toHaveLength(10);

    const prisma = pipeline.db.prisma;
    const deadline = Date.now() + 90_000;
    while ((await prisma.job.count({ where: { id: { in: bJobs }, status: "COMPLETED" } })) < 10) {
      if (Date.now() > deadline) throw new Error("tenant B's jobs did not finish");
      await new Promise((r) => setTimeout(r, 100));
    }
    const lastB = await prisma.job.aggregate({ where: { id: { in: bJobs } }, _max: { completedAt: true } });
    const aDoneBeforeB = await prisma.job.count({
      where: { tenantId: a.tenantId, status: "COMPLETED", completedAt: { lte: lastB._max.completedAt! } },
    });
    expect(aDoneBeforeB).toBeLessThan(1_000);
  });
});
