import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "./tenant-scope.js";
import { createTestDatabase } from "./testing.js";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const tenantA = randomUUID();
const tenantB = randomUUID();

beforeAll(async () => {
  db = await createTestDatabase();
  for (const id of [tenantA, tenantB]) {
    await db.prisma.tenant.create({ data: { id, name: id } });
    await db.prisma.job.create({ data: { tenantId: id, workflow: "w", input: {}, maxAttempts: 1 } });
  }
});
afterAll(async () => {
  await db?.drop();
});

describe("row-level security", () => {
  it("shows a tenant-scoped transaction only its own rows", async () => {
    const jobs = await withTenant(db.prisma, tenantA, (tx) => tx.job.findMany());
    expect(jobs.map((j) => j.tenantId)).toEqual([tenantA]);
    const tenants = await withTenant(db.prisma, tenantB, (tx) => tx.tenant.findMany());
    expect(tenants.map((t) => t.id)).toEqual([tenantB]);
  });

  it("reads nothing without a tenant context", async () => {
    const count = await db.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT set_config('role', 'zixly_tenant', true)`;
      const rows = await tx.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM jobs`;
      return Number(rows[0]?.n);
    });
    expect(count).toBe(0);
    expect(await db.prisma.job.count()).toBe(2);
  });

  it("refuses to write another tenant's rows", async () => {
    await expect(
      withTenant(db.prisma, tenantA, (tx) =>
        tx.job.create({ data: { tenantId: tenantB, workflow: "w", input: {}, maxAttempts: 1 } }),
      ),
    ).rejects.toThrow(/row-level security|violates/i);
    const updated = await withTenant(db.prisma, tenantA, (tx) =>
      tx.job.updateMany({ where: { tenantId: tenantB }, data: { workflow: "hijacked" } }),
    );
    expect(updated.count).toBe(0);
  });

  it("scopes job steps through their job", async () => {
    const jobB = await db.prisma.job.findFirstOrThrow({ where: { tenantId: tenantB } });
    await db.prisma.jobStep.create({ data: { jobId: jobB.id, name: "s", status: "COMPLETED", attempt: 1 } });
    expect(await withTenant(db.prisma, tenantA, (tx) => tx.jobStep.count())).toBe(0);
    expect(await withTenant(db.prisma, tenantB, (tx) => tx.jobStep.count())).toBe(1);
  });
});
