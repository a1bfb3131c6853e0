import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createPrismaClient, rawQueryOf } from "./client.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { migrate } from "./migrate.js";
import { createScratchDatabase, type ScratchDatabase } from "./test-support/scratch-database.js";

const scratch: ScratchDatabase[] = [];
afterAll(async () => {
  for (const db of scratch) await db.drop();
});
async function migratedDb(schema?: string): Promise<{ db: ScratchDatabase; url: string }> {
  const db = await createScratchDatabase();
  scratch.push(db);
  const url = schema ? `${db.url}?schema=${schema}` : db.url;
  await migrate(url);
  return { db, url };
}

describe("rawQueryOf()", () => {
  it("runs named statements on the client's own pool, as prepared statements", async () => {
    const { url, db } = await migratedDb();
    const prisma = createPrismaClient(url, { max: 1 });
    try {
      const query = rawQueryOf(prisma);
      const statement = {
        name: "raw_query_test",
        text: "SELECT $1::int AS n, now() AS at, '{\"a\":[1]}'::jsonb AS doc, ARRAY['x','y'] AS list",
      };
      const first = await query<{ n: number; at: Date; doc: unknown; list: string[] }>({
        ...statement,
        values: [1],
      });
      const second = await query<{ n: number }>({ ...statement, values: [2] });
      expect(first).toEqual([{ n: 1, at: expect.any(Date), doc: { a: [1] }, list: ["x", "y"] }]);
      expect(second).toEqual([expect.objectContaining({ n: 2 })]);
      // Prepared on the server session that ran it (the pool has one connection).
      const prepared = await query<{ name: string }>({
        text: "SELECT name FROM pg_prepared_statements WHERE name = $1",
        values: ["raw_query_test"],
      });
      expect(prepared).toEqual([{ name: "raw_query_test" }]);
      // …and planned per execution: a generic plan made while a table was empty would keep
      // seq-scanning it as it grew (until the next ANALYZE).
      expect(await query({ text: "SHOW plan_cache_mode", values: [] })).toEqual([
        { plan_cache_mode: "force_custom_plan" },
      ]);
      // Both paths see one database: a raw write is visible to the ORM.
      await query({ text: "INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), $1)", values: ["raw"] });
      expect(await prisma.tenant.count()).toBe(1);
    } finally {
      await prisma.$disconnect();
    }
    expect(await db.query("SELECT name FROM tenants")).toEqual([{ name: "raw" }]);
  });

  it("applies the session settings before a new connection's first query, not beside it", async () => {
    const { url } = await migratedDb();
    const prisma = createPrismaClient(url, { max: 2 });
    // pg deprecates (and pg@9 drops) a query sent while another waits on the same client: the
    // condition it checks is a non-empty queue at call time.
    const original = pg.Client.prototype.query;
    let queuedBehindAnother = 0;
    pg.Client.prototype.query = function (this: pg.Client & { _queryQueue: unknown[] }, ...args: unknown[]) {
      if (this._queryQueue.length > 0) queuedBehindAnother += 1;
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      const query = rawQueryOf(prisma);
      // Two connections opened by concurrent first queries, each answered with its setting.
      const answers = await Promise.all(
        [1, 2].map(() =>
          query<{ mode: string }>({
            text: "SELECT current_setting('plan_cache_mode') AS mode, pg_sleep(0.05)",
            values: [],
          }),
        ),
      );
      expect(answers.flat().map((a) => a.mode)).toEqual(["force_custom_plan", "force_custom_plan"]);
      expect(queuedBehindAnother).toBe(0);
    } finally {
      pg.Client.prototype.query = original;
      await prisma.$disconnect();
    }
  });

  it("resolves unqualified tables in the ?schema= the client was made for", async () => {
    const { url, db } = await migratedDb("tenant_raw");
    const prisma = createPrismaClient(url, { max: 1 });
    try {
      await rawQueryOf(prisma)({
        text: "INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'x')",
        values: [],
      });
      expect(await prisma.tenant.count()).toBe(1);
    } finally {
      await prisma.$disconnect();
    }
    expect(await db.query("SELECT name FROM tenant_raw.tenants")).toEqual([{ name: "x" }]);
  });

  it("goes through Prisma for a client made elsewhere", async () => {
    const { url } = await migratedDb();
    const foreign = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 1 }) });
    try {
      const rows = await rawQueryOf(foreign)<{ n: number }>({
        name: "ignored_here",
        text: "SELECT $1::int AS n",
        values: [7],
      });
      expect(rows).toEqual([{ n: 7 }]);
    } finally {
      await foreign.$disconnect();
    }
  });

  it("ends the pool on $disconnect() also when only raw statements used it", async () => {
    const { url, db } = await migratedDb();
    const prisma = createPrismaClient(url, { max: 2 });
    const query = rawQueryOf(prisma);
    await query({ text: "SELECT pg_sleep(0)", values: [] });
    await prisma.$disconnect();
    const sessions = await db.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    expect(sessions).toEqual([{ n: 0 }]);
    await expect(query({ text: "SELECT 1", values: [] })).rejects.toThrow(/pool/i);
  });

  it("surfaces an unreachable server as a connection error (the receiver answers 503)", async () => {
    const prisma = createPrismaClient("postgresql://postgres@127.0.0.1:1/nowhere", { max: 1 });
    try {
      await expect(rawQueryOf(prisma)({ text: "SELECT 1", values: [] })).rejects.toMatchObject({
        code: "ECONNREFUSED",
      });
    } finally {
      await prisma.$disconnect();
    }
  });
});
