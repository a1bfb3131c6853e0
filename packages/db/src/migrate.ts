/**
 * An offline runner for `prisma/migrations`, compatible with `prisma migrate deploy`: it keeps
 * Prisma's `_prisma_migrations` bookkeeping and lock, so either tool can take over from the
 * other. It exists because Prisma 7's CLI must download a native schema engine for every
 * migration command, which is impossible on our networks (docs/database.md).
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { MigrationError } from "./migration-error.js";
import { openMigrationSession } from "./migration-session.js";
import {
  defaultMigrationsDir,
  type LocalMigration,
  readMigrations,
  scriptMatchesChecksum,
} from "./migrations-dir.js";
import {
  ensureMigrationsTable,
  insertStarted,
  isApplied,
  isFailed,
  listMigrationRows,
  type MigrationRow,
  markFinished,
  recordFailure,
  withMigrateLock,
} from "./migrations-table.js";

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Directory of `<timestamp>_<name>/migration.sql` folders; default: the repository's `prisma/migrations`. */
  migrationsDir?: string;
  /** Progress and warnings, one line each; silent by default. */
  log?: (msg: string) => void;
}

/** What a {@link migrate} run did. */
export interface MigrateResult {
  /** Names of the migrations applied by this run, in order (empty when up to date). */
  applied: string[];
  /** Problems that did not stop the run (edited or unknown applied migrations), also logged. */
  warnings: string[];
}

const PG_ACTIVE_SQL_TRANSACTION = "25001";

/**
 * Applies the pending migrations to `databaseUrl`, in order, each in its own transaction
 * where PostgreSQL allows it.
 *
 * Concurrent runs (several replicas starting at once) serialise on Prisma's advisory lock;
 * the later ones find nothing pending. A failed migration is recorded and every later run
 * refuses with a {@link MigrationError} until it is resolved ({@link resolveMigration}).
 *
 * @throws {MigrationError} `FAILED_MIGRATION_PRESENT` or `MIGRATION_FAILED`.
 */
export async function migrate(databaseUrl: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const log = opts.log ?? (() => {});
  const dir = opts.migrationsDir ?? defaultMigrationsDir();
  // Read the files before connecting: a broken checkout should fail before taking the lock.
  const local = await readMigrations(dir);
  const client = await openMigrationSession(databaseUrl);
  try {
    return await withMigrateLock(client, log, async () => {
      await ensureMigrationsTable(client);
      const rows = await listMigrationRows(client);
      const failed = rows.find(isFailed);
      if (failed) throw failedMigrationPresent(failed);

      const warnings = driftWarnings(local, rows);
      for (const warning of warnings) log(`Warning: ${warning}`);

      const appliedNames = new Set(rows.filter(isApplied).map((row) => row.migrationName));
      const pending = local.filter((migration) => !appliedNames.has(migration.name));
      log(
        pending.length === 0
          ? `No pending migrations (${local.length} in ${dir})`
          : `${pending.length} pending migration(s) in ${dir}`,
      );
      const applied: string[] = [];
      for (const migration of pending) {
        const started = performance.now();
        await applyMigration(client, migration, log);
        applied.push(migration.name);
        log(`Applied ${migration.name} (${Math.round(performance.now() - started)} ms)`);
      }
      return { applied, warnings };
    });
  } finally {
    await client.end().catch(() => {});
  }
}

/** Prisma warns rather than re-running: an applied migration is history, whatever its file says now. */
function driftWarnings(local: LocalMigration[], rows: MigrationRow[]): string[] {
  const byName = new Map(local.map((migration) => [migration.name, migration]));
  const warnings: string[] = [];
  for (const row of rows.filter(isApplied)) {
    const migration = byName.get(row.migrationName);
    if (!migration) {
      warnings.push(
        `migration ${row.migrationName} is applied to the database but missing from the migrations directory`,
      );
    } else if (!scriptMatchesChecksum(migration.script, row.checksum)) {
      warnings.push(
        `migration ${row.migrationName} was modified after it was applied (checksum ${row.checksum} recorded, ` +
          `${migration.checksum} on disk); it is not re-run — put changes in a new migration`,
      );
    }
  }
  return warnings;
}

/**
 * Runs one script. Inside a transaction together with its bookkeeping, so a crash leaves
 * either everything or nothing; scripts PostgreSQL refuses to run in a transaction block
 * (`CREATE INDEX CONCURRENTLY`, …) run as `prisma migrate deploy` runs every script: as
 * one simple query, with the row inserted first.
 */
async function applyMigration(client: pg.ClientBase, migration: LocalMigration, log: (msg: string) => void) {
  const id = randomUUID();
  const row = { id, migrationName: migration.name, checksum: migration.checksum };
  log(`Applying ${migration.name}`);
  await client.query("BEGIN");
  try {
    await insertStarted(client, row);
    await client.query(migration.script);
    await markFinished(client, id);
    await client.query("COMMIT");
    return;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    if (dbErrorCode(err) !== PG_ACTIVE_SQL_TRANSACTION) {
      // Nothing of the script remains; record the failure so later runs stop, as Prisma's do.
      // If even that fails (connection lost), the next run simply retries the migration.
      try {
        await insertStarted(client, row);
        await recordFailure(client, id, failureLogs(migration, err));
      } catch (recordErr) {
        log(`Could not record the failure of ${migration.name}: ${pgFields(recordErr).message ?? recordErr}`);
      }
      throw migrationFailed(migration, err, "Its changes were rolled back.");
    }
    log(`${migration.name} cannot run inside a transaction; running it without one`);
  }
  await insertStarted(client, row);
  try {
    await client.query(migration.script);
  } catch (err) {
    await recordFailure(client, id, failureLogs(migration, err)).catch((recordErr) => {
      log(`Could not record the failure of ${migration.name}: ${pgFields(recordErr).message ?? recordErr}`);
    });
    throw migrationFailed(
      migration,
      err,
      "It ran outside a transaction, so statements before the failing one may have been applied.",
    );
  }
  await markFinished(client, id);
}

interface PgErrorFields {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  position?: string;
}

function pgFields(err: unknown): PgErrorFields {
  return typeof err === "object" && err !== null ? (err as PgErrorFields) : { message: String(err) };
}

function dbErrorCode(err: unknown): string | undefined {
  return pgFields(err).code;
}

/** "line N: <text>" of the error position PostgreSQL reports (1-based character offset). */
function errorLocation(script: string, position: string | undefined): string | undefined {
  const offset = Number(position);
  if (!Number.isInteger(offset) || offset < 1) return undefined;
  const before = script.slice(0, offset - 1);
  const lineNo = before.split("\n").length;
  const text = script.split("\n")[lineNo - 1]?.trim() ?? "";
  return `line ${lineNo}: ${text}`;
}

/** The `logs` column, shaped like the schema engine's. */
function failureLogs(migration: LocalMigration, err: unknown): string {
  const e = pgFields(err);
  const lines = [`Migration name: ${migration.name}`, ""];
  if (e.code) lines.push(`Database error code: ${e.code}`, "");
  lines.push("Database error:", `ERROR: ${e.message ?? String(err)}`);
  if (e.detail) lines.push(`DETAIL: ${e.detail}`);
  if (e.hint) lines.push(`HINT: ${e.hint}`);
  const location = errorLocation(migration.script, e.position);
  if (location) lines.push("", `Position: ${location}`);
  return lines.join("\n");
}

function migrationFailed(migration: LocalMigration, err: unknown, consequence: string): MigrationError {
  const e = pgFields(err);
  const location = errorLocation(migration.script, e.position);
  return new MigrationError(
    "MIGRATION_FAILED",
    migration.name,
    `Migration ${migration.name} failed: ${e.message ?? String(err)}` +
      (e.code ? ` (SQLSTATE ${e.code})` : "") +
      (location ? ` at ${location}` : "") +
      ` [${migration.scriptPath}]. ${consequence} The failure is recorded in _prisma_migrations; ` +
      "later runs refuse until it is resolved (docs/database.md, “A migration failed”).",
    { cause: err },
  );
}

function failedMigrationPresent(row: MigrationRow): MigrationError {
  return new MigrationError(
    "FAILED_MIGRATION_PRESENT",
    row.migrationName,
    `Migration ${row.migrationName} (started ${row.startedAt.toISOString()}) failed and is not resolved, ` +
      "so no migrations will be applied. Its error is in _prisma_migrations.logs. Fix the cause, then either " +
      `undo its partial changes and run \`node packages/db/dist/cli/migrate.js --rolled-back ${row.migrationName}\` ` +
      `to re-apply it, or finish it by hand and run \`… --applied ${row.migrationName}\` ` +
      "(what `prisma migrate resolve` does; docs/database.md).",
  );
}
