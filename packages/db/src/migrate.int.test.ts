import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createPrismaClient } from "./client.js";
import { ensureDatabase } from "./ensure-database.js";
import { migrate } from "./migrate.js";
import { MigrationError, type MigrationErrorCode } from "./migration-error.js";
import { defaultMigrationsDir } from "./migrations-dir.js";
import { resolveMigration } from "./resolve-migration.js";
import { createScratchDatabase, type ScratchDatabase } from "./test-support/scratch-database.js";

interface Row {
  id: string;
  checksum: string;
  migration_name: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
  applied_steps_count: number;
}

const scratch: ScratchDatabase[] = [];
const tempDirs: string[] = [];
async function freshDb(): Promise<ScratchDatabase> {
  const db = await createScratchDatabase();
  scratch.push(db);
  return db;
}
async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "zixly-migrate-"));
  tempDirs.push(dir);
  await writeFile(path.join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(files)) await writeMigration(dir, name, sql);
  return dir;
}
async function writeMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name), { recursive: true });
  await writeFile(path.join(dir, name, "migration.sql"), sql);
}
const rowsOf = (db: ScratchDatabase) =>
  db.query<Row>(`SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`);
const tablesOf = async (db: ScratchDatabase) =>
  (
    await db.query<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
  ).map((r) => r.t);
async function migrationError(promise: Promise<unknown>, code: MigrationErrorCode): Promise<MigrationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MigrationError);
  expect((err as MigrationError).code).toBe(code);
  return err as MigrationError;
}

afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
afterAll(async () => {
  await Promise.all(scratch.map((db) => db.drop()));
});

/** The repository's migrations, in the order the runner applies them. */
const repoMigrations = async () =>
  (await readdir(defaultMigrationsDir())).filter((name) => /^\d{14}_/.test(name)).sort();

describe("migrate() on the repository's migrations", () => {
  it("applies them to a fresh database with Prisma's bookkeeping", async () => {
    const db = await freshDb();
    const logs: string[] = [];
    const result = await migrate(db.url, { log: (m) => logs.push(m) });

    expect(result).toEqual({ applied: await repoMigrations(), warnings: [] });
    expect(logs.some((l) => l.startsWith("Applied 20261121000000_init"))).toBe(true);
    const bytes = await readFile(path.join(defaultMigrationsDir(), "20261121000000_init", "migration.sql"));
    const rows = await rowsOf(db);
    expect(rows.map((r) => r.migration_name)).toEqual(await repoMigrations());
    const row = rows.find((r) => r.migration_name === "20261121000000_init");
    expect(row).toMatchObject({
      migration_name: "20261121000000_init",
      checksum: createHash("sha256").update(bytes).digest("hex"),
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(row?.finished_at).toBeInstanceOf(Date);
    expect(row!.finished_at!.getTime()).toBeGreaterThanOrEqual(row!.started_at.getTime());
    expect(await tablesOf(db)).toContain("jobs");
  });

  it("creates _prisma_migrations exactly as Prisma's schema engine does", async () => {
    const db = await freshDb();
    await migrate(db.url);
    const columns = await db.query<{
      column_name: string;
      type: string;
      is_nullable: string;
      column_default: string | null;
    }>(
      `SELECT column_name, format_type(a.atttypid, a.atttypmod) AS type, is_nullable, column_default
         FROM information_schema.columns c
         JOIN pg_attribute a ON a.attrelid = '"_prisma_migrations"'::regclass AND a.attname = c.column_name
        WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(
      columns.map((c) => `${c.column_name} ${c.type} ${c.is_nullable} ${c.column_default ?? ""}`.trim()),
    ).toEqual([
      "id character varying(36) NO",
      "checksum character varying(64) NO",
      "finished_at timestamp with time zone YES",
      "migration_name character varying(255) NO",
      "logs text YES",
      "rolled_back_at timestamp with time zone YES",
      "started_at timestamp with time zone NO now()",
      "applied_steps_count integer NO 0",
    ]);
    const [pk] = await db.query<{ cols: string }>(
      `SELECT string_agg(a.attname, ',') AS cols FROM pg_index x
         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey)
        WHERE x.indrelid = '"_prisma_migrations"'::regclass AND x.indisprimary`,
    );
    expect(pk?.cols).toBe("id");
  });

  it("is idempotent", async () => {
    const db = await freshDb();
    await migrate(db.url);
    const before = await rowsOf(db);
    const logs: string[] = [];
    expect(await migrate(db.url, { log: (m) => logs.push(m) })).toEqual({ applied: [], warnings: [] });
    expect(await rowsOf(db)).toEqual(before);
    expect(logs.join("\n")).toMatch(/No pending migrations/);
  });

  it("applies once when several runs race (Prisma's advisory lock)", async () => {
    const db = await freshDb();
    const results = await Promise.all(Array.from({ length: 6 }, () => migrate(db.url)));
    expect(results.flatMap((r) => r.applied)).toEqual(await repoMigrations());
    expect((await rowsOf(db)).map((r) => r.migration_name)).toEqual(await repoMigrations());
  });
});

describe("migrate() failure handling", () => {
  const ok = "CREATE TABLE first (id int PRIMARY KEY);\n";
  // The table is created before the syntax error: the transaction must take it back.
  const broken =
    "CREATE TABLE second (id int PRIMARY KEY);\n\nINSERT INTO second VALUES (1);\nCREAT TABLE oops ();\n";
  const later = "CREATE TABLE third (id int PRIMARY KEY);\n";

  it("records a failure, rolls its changes back and refuses later runs until resolved", async () => {
    const db = await freshDb();
    const dir = await migrationsDir({ "001_first": ok, "002_second": broken, "003_third": later });

    const failure = await migrationError(migrate(db.url, { migrationsDir: dir }), "MIGRATION_FAILED");
    expect(failure.migrationName).toBe("002_second");
    expect(failure.message).toMatch(
      /002_second failed: syntax error at or near "CREAT" \(SQLSTATE 42601\) at line 4/,
    );
    expect(await tablesOf(db)).toEqual(["_prisma_migrations", "first"]);
    const rows = await rowsOf(db);
    expect(rows.map((r) => [r.migration_name, r.finished_at !== null, r.applied_steps_count])).toEqual([
      ["001_first", true, 1],
      ["002_second", false, 0],
    ]);
    expect(rows[1]?.logs).toMatch(/Database error code: 42601[\s\S]*Position: line 4: CREAT TABLE oops/);

    const refusal = await migrationError(migrate(db.url, { migrationsDir: dir }), "FAILED_MIGRATION_PRESENT");
    expect(refusal.migrationName).toBe("002_second");
    expect(refusal.message).toMatch(/Migration 002_second \(started .*\) failed and is not resolved/);
    expect(refusal.message).toMatch(/--rolled-back 002_second/);
    expect(await tablesOf(db)).toEqual(["_prisma_migrations", "first"]);

    // Fixed file, marked rolled back: the next run re-applies it, then the rest.
    await writeMigration(dir, "002_second", "CREATE TABLE second (id int PRIMARY KEY);\n");
    await resolveMigration(db.url, "002_second", "rolled-back", { migrationsDir: dir });
    expect(await migrate(db.url, { migrationsDir: dir })).toEqual({
      applied: ["002_second", "003_third"],
      warnings: [],
    });
    const after = await rowsOf(db);
    expect(
      after
        .filter((r) => r.migration_name === "002_second")
        .map((r) => [r.rolled_back_at !== null, r.finished_at !== null]),
    ).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(await tablesOf(db)).toEqual(["_prisma_migrations", "first", "second", "third"]);
  });

  it("resolve --applied records it as done (0 steps) and the next run skips it", async () => {
    const db = await freshDb();
    const dir = await migrationsDir({ "001_first": ok, "002_second": broken, "003_third": later });
    await migrationError(migrate(db.url, { migrationsDir: dir }), "MIGRATION_FAILED");

    await resolveMigration(db.url, "002_second", "applied", { migrationsDir: dir });
    expect(await migrate(db.url, { migrationsDir: dir })).toEqual({ applied: ["003_third"], warnings: [] });
    const second = (await rowsOf(db)).filter((r) => r.migration_name === "002_second");
    expect(
      second.map((r) => [r.rolled_back_at !== null, r.finished_at !== null, r.applied_steps_count]),
    ).toEqual([
      [true, false, 0],
      [false, true, 0],
    ]);

    await migrationError(
      resolveMigration(db.url, "002_second", "applied", { migrationsDir: dir }),
      "RESOLVE_REFUSED",
    );
    await migrationError(
      resolveMigration(db.url, "003_third", "rolled-back", { migrationsDir: dir }),
      "RESOLVE_REFUSED",
    );
    await migrationError(
      resolveMigration(db.url, "004_nope", "applied", { migrationsDir: dir }),
      "RESOLVE_REFUSED",
    );
  });

  it("warns about an applied migration edited afterwards instead of re-running it", async () => {
    const db = await freshDb();
    const dir = await migrationsDir({ "001_first": ok });
    await migrate(db.url, { migrationsDir: dir });

    await writeMigration(dir, "001_first", ok.replaceAll("\n", "\r\n")); // a CRLF checkout is not an edit
    expect(await migrate(db.url, { migrationsDir: dir })).toEqual({ applied: [], warnings: [] });

    await writeMigration(dir, "001_first", `${ok}CREATE INDEX first_idx ON first (id);\n`);
    const logs: string[] = [];
    const result = await migrate(db.url, { migrationsDir: dir, log: (m) => logs.push(m) });
    expect(result.applied).toEqual([]);
    expect(result.warnings).toEqual([expect.stringMatching(/001_first was modified after it was applied/)]);
    expect(logs).toContainEqual(expect.stringMatching(/^Warning: migration 001_first was modified/));
  });

  it("runs a script PostgreSQL refuses in a transaction block (CREATE INDEX CONCURRENTLY) without one", async () => {
    const db = await freshDb();
    const dir = await migrationsDir({
      "001_first": ok,
      "002_index": "CREATE INDEX CONCURRENTLY first_id_idx ON first (id);\n",
    });
    const logs: string[] = [];
    expect((await migrate(db.url, { migrationsDir: dir, log: (m) => logs.push(m) })).applied).toEqual([
      "001_first",
      "002_index",
    ]);
    expect(logs).toContainEqual("002_index cannot run inside a transaction; running it without one");
    expect(await db.query("SELECT 1 FROM pg_indexes WHERE indexname = 'first_id_idx'")).toHaveLength(1);
    expect((await rowsOf(db)).every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
  });

  it("migrates into the schema named by ?schema=, as Prisma does", async () => {
    const db = await freshDb();
    const dir = await migrationsDir({ "001_first": ok });
    await migrate(`${db.url}?schema=tenant_a`, { migrationsDir: dir });
    expect(
      await db.query("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = 'tenant_a' ORDER BY 2"),
    ).toEqual([
      { schemaname: "tenant_a", tablename: "_prisma_migrations" },
      { schemaname: "tenant_a", tablename: "first" },
    ]);
  });
});

describe("a non-default schema (?schema=)", () => {
  it("is where migrate() puts the tables and where createPrismaClient() looks", async () => {
    const db = await freshDb();
    const url = `${db.url}?schema=tenant_b`;
    await migrate(url);
    const prisma = createPrismaClient(url, { max: 1 });
    try {
      await prisma.tenant.create({ data: { name: "in tenant_b" } });
      expect(await prisma.tenant.count()).toBe(1);
    } finally {
      await prisma.$disconnect();
    }
    expect(await db.query("SELECT name FROM tenant_b.tenants")).toEqual([{ name: "in tenant_b" }]);
    expect(await db.query("SELECT 1 FROM pg_tables WHERE schemaname = 'public'")).toEqual([]);
  });
});

describe("ensureDatabase()", () => {
  it("creates a missing database once, also when called concurrently", async () => {
    const db = await createScratchDatabase({ create: false });
    scratch.push(db);
    const results = await Promise.all(Array.from({ length: 4 }, () => ensureDatabase(db.url)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await ensureDatabase(db.url)).toEqual({ created: false });
    expect(await db.query("SELECT current_database() AS name")).toEqual([{ name: db.name }]);
  });
});
