import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { JobStatus, Prisma, Role } from "./generated/prisma/client.js";
import { createTestDatabase, type TestDatabase, testServerUrl } from "./testing.js";

const open: TestDatabase[] = [];
async function testDb(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  open.push(db);
  return db;
}
afterAll(async () => {
  await Promise.all(open.map((db) => db.drop()));
});

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe("createTestDatabase()", () => {
  it("gives a migrated database of its own with a working Prisma client", async () => {
    const db = await testDb();
    expect(new URL(db.url).pathname).toMatch(/^\/zixly_test_[0-9a-f]{12}$/);

    const tenant = await db.prisma.tenant.create({ data: { name: "Acme" } });
    const endpoint = await db.prisma.webhookEndpoint.create({
      data: { tenantId: tenant.id, source: "xero", name: "Xero" },
    });
    const event = await db.prisma.webhookEvent.create({
      data: {
        tenantId: tenant.id,
        endpointId: endpoint.id,
        source: "xero",
        eventType: "invoice.created",
        dedupeKey: "e1",
        payload: { id: 1 },
      },
    });
    const job = await db.prisma.job.create({
      data: { tenantId: tenant.id, eventId: event.id, workflow: "sync", input: { n: 1 }, maxAttempts: 3 },
    });
    expect(job).toMatchObject({ status: JobStatus.QUEUED, attempts: 0, result: null, input: { n: 1 } });
    expect(endpoint.settings).toEqual({});
    await db.prisma.user.create({ data: { tenantId: tenant.id, email: "a@acme.test", role: Role.ADMIN } });

    // Unique constraints surface as Prisma's P2002.
    const duplicate = db.prisma.webhookEvent.create({
      data: {
        tenantId: tenant.id,
        endpointId: endpoint.id,
        source: "xero",
        eventType: "x",
        dedupeKey: "e1",
        payload: {},
      },
    });
    await expect(duplicate).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    await expect(duplicate).rejects.toMatchObject({ code: "P2002" });

    // Cascades from the tenant.
    await db.prisma.tenant.delete({ where: { id: tenant.id } });
    expect(await db.prisma.job.count()).toBe(0);
  });

  it("has database defaults for raw-SQL inserts (ids, timestamps, statuses)", async () => {
    const db = await testDb();
    const [tenant] = await db.prisma.$queryRaw<{ id: string; created_at: Date }[]>`
      INSERT INTO tenants (name) VALUES ('raw') RETURNING id, created_at`;
    expect(tenant?.id).toMatch(/^[0-9a-f-]{36}$/);
    const [job] = await db.prisma.$queryRaw<{ status: string; attempts: number }[]>`
      INSERT INTO jobs (tenant_id, workflow, input, max_attempts)
      VALUES (${tenant?.id}::uuid, 'w', '{}'::jsonb, 1) RETURNING status::text, attempts`;
    expect(job).toEqual({ status: "QUEUED", attempts: 0 });
  });

  it("isolates databases, creates them in parallel and drops them", async () => {
    const dbs = await Promise.all(Array.from({ length: 4 }, () => createTestDatabase()));
    try {
      await dbs[0]!.prisma.tenant.create({ data: { name: "only in 0" } });
      expect(await Promise.all(dbs.map((db) => db.prisma.tenant.count()))).toEqual([1, 0, 0, 0]);
      const migrations = await dbs[1]!.prisma.$queryRaw<{ migration_name: string }[]>`
        SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL`;
      expect(migrations.map((m) => m.migration_name)).toContain("20261121000000_init");
    } finally {
      await Promise.all(dbs.map((db) => db.drop()));
    }
    const names = dbs.map((db) => new URL(db.url).pathname.slice(1));
    expect(await Promise.all(names.map(databaseExists))).toEqual([false, false, false, false]);
    await dbs[0]!.drop(); // idempotent
  });

  it("is fast once the template exists", async () => {
    await (await createTestDatabase()).drop(); // template ready in this process
    const started = performance.now();
    const db = await createTestDatabase();
    const created = performance.now() - started;
    await db.prisma.tenant.count(); // first query opens the pool
    await db.drop();
    console.info(`createTestDatabase(): ${Math.round(created)} ms`);
    expect(created).toBeLessThan(2_000);
  });
});
