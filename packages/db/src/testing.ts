/**
 * @module @zixly/db/testing
 *
 * Throwaway databases for integration tests. Migrations are applied once per migration set
 * into a template database (`zixly_template_<hash>`), which is then cloned with
 * `CREATE DATABASE … TEMPLATE`: a clone costs a file copy instead of running every
 * migration.
 *
 * @example
 * ```ts
 * import { createTestDatabase, type TestDatabase } from "@zixly/db/testing";
 *
 * let db: TestDatabase;
 * beforeAll(async () => { db = await createTestDatabase(); });
 * afterAll(() => db.drop());
 *
 * it("stores a tenant", async () => {
 *   await db.prisma.tenant.create({ data: { name: "Acme" } });
 * });
 * ```
 */
import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { createPrismaClient } from "./client.js";
import { pgTargetOf, quoteIdent, withDatabaseName } from "./database-url.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { migrate } from "./migrate.js";
import { defaultMigrationsDir, readMigrations } from "./migrations-dir.js";

/** A migrated database of its own, with a client on it. */
export interface TestDatabase {
  /** Connection URL of the database (e.g. for code under test that builds its own client). */
  url: string;
  /** A client on it; {@link TestDatabase.drop} disconnects it. */
  prisma: PrismaClient;
  /** Disconnects the client and drops the database (`WITH (FORCE)`: other sessions are ended). */
  drop(): Promise<void>;
}

/** Options of {@link createTestDatabase}. */
export interface TestDatabaseOptions {
  /** Pool size of `prisma` (default 4: many test databases may be open at once). */
  max?: number;
}

const PG_OBJECT_IN_USE = "55006"; // "source database … is being accessed by other users"

/** The server tests use: `TEST_DATABASE_URL`, a URL of its maintenance database. */
export function testServerUrl(): string {
  return process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgTargetOf(testServerUrl()).connectionString });
  client.on("error", () => {}); // reported by the failing query; unhandled it would crash the process
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Retries statements PostgreSQL refuses while another session is still on the database
 * involved: a just-closed connection can linger for a few milliseconds server-side.
 */
async function retryWhileInUse(client: pg.Client, sql: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(sql);
      return;
    } catch (err) {
      const inUse = typeof err === "object" && err !== null && "code" in err && err.code === PG_OBJECT_IN_USE;
      if (!inUse || attempt >= 50) throw err;
      await sleep(20 * Math.min(attempt, 10));
    }
  }
}

/**
 * Creates (once per migration set, across processes) the template database. Built under a
 * temporary name and renamed when complete, so a crash never leaves a half-migrated
 * template; built under an advisory lock, so parallel test files build it once. It stays
 * in place for later runs and refuses connections, so nothing blocks cloning it.
 */
async function prepareTemplate(): Promise<string> {
  const migrationsDir = defaultMigrationsDir();
  const migrations = await readMigrations(migrationsDir);
  const hash = createHash("sha256")
    .update(migrations.map((m) => `${m.name}:${m.checksum}\n`).join(""))
    .digest("hex")
    .slice(0, 16);
  const template = `zixly_template_${hash}`;
  const building = `${template}_build`;
  await withAdmin(async (admin) => {
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [template]);
    try {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
      if (rowCount !== 0) return;
      const leftover = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [building]);
      if (leftover.rowCount !== 0) {
        // A crashed build; it may already be flagged as a template, which DROP refuses.
        await admin.query(`ALTER DATABASE ${quoteIdent(building)} WITH IS_TEMPLATE false`);
        await admin.query(`DROP DATABASE ${quoteIdent(building)} WITH (FORCE)`);
      }
      await admin.query(`CREATE DATABASE ${quoteIdent(building)}`);
      await migrate(withDatabaseName(testServerUrl(), building), { migrationsDir });
      // Flags first, rename last: whoever sees the final name sees a finished template.
      await admin.query(
        `ALTER DATABASE ${quoteIdent(building)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`,
      );
      await retryWhileInUse(
        admin,
        `ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(template)}`,
      );
    } finally {
      await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [template]);
    }
  });
  return template;
}

let templateReady: Promise<string> | undefined;

function templateDatabase(): Promise<string> {
  templateReady ??= prepareTemplate().catch((err: unknown) => {
    templateReady = undefined; // let the next call try again rather than cache the failure
    throw err;
  });
  return templateReady;
}

/**
 * A fresh database `zixly_test_<random>` with all migrations applied, on the server of
 * `TEST_DATABASE_URL` (default `postgresql://postgres@127.0.0.1:5432/postgres`). The role
 * needs CREATEDB. Call `drop()` when done.
 */
export async function createTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const template = await templateDatabase();
  const name = `zixly_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((admin) =>
    retryWhileInUse(admin, `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`),
  );
  const url = withDatabaseName(testServerUrl(), name);
  const prisma = createPrismaClient(url, { max: opts.max ?? 4 });
  let dropped: Promise<void> | undefined;
  return {
    url,
    prisma,
    drop() {
      dropped ??= (async () => {
        await prisma.$disconnect();
        await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
      })();
      return dropped;
    },
  };
}
