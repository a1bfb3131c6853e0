/**
 * Prisma Migrate's bookkeeping table, `_prisma_migrations`, read and written exactly as the
 * schema engine does, so a database migrated here stays valid for `prisma migrate deploy`
 * and `prisma migrate status` (and the other way round).
 */
import type pg from "pg";

/** Prisma's advisory-lock key for migrations; holding it keeps `prisma migrate` out too. */
export const MIGRATE_LOCK_KEY = 72707369;

/** One row of `_prisma_migrations`. */
export interface MigrationRow {
  id: string;
  checksum: string;
  migrationName: string;
  startedAt: Date;
  finishedAt: Date | null;
  rolledBackAt: Date | null;
  logs: string | null;
  appliedStepsCount: number;
}

/** Applied: finished and not rolled back. */
export function isApplied(row: MigrationRow): boolean {
  return row.finishedAt !== null && row.rolledBackAt === null;
}

/** Failed: started, never finished, not marked rolled back. Prisma refuses to deploy past it. */
export function isFailed(row: MigrationRow): boolean {
  return row.finishedAt === null && row.rolledBackAt === null;
}

/** The DDL of Prisma's schema engine (PostgreSQL flavour), in the current search_path schema. */
export async function ensureMigrationsTable(client: pg.ClientBase): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"            VARCHAR(64) NOT NULL,
    "finished_at"         TIMESTAMPTZ,
    "migration_name"      VARCHAR(255) NOT NULL,
    "logs"                TEXT,
    "rolled_back_at"      TIMESTAMPTZ,
    "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
  )`);
}

/** All rows, oldest first. */
export async function listMigrationRows(client: pg.ClientBase): Promise<MigrationRow[]> {
  const { rows } = await client.query<{
    id: string;
    checksum: string;
    migration_name: string;
    started_at: Date;
    finished_at: Date | null;
    rolled_back_at: Date | null;
    logs: string | null;
    applied_steps_count: number;
  }>(
    `SELECT id, checksum, migration_name, started_at, finished_at, rolled_back_at, logs, applied_steps_count
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  return rows.map((row) => ({
    id: row.id,
    checksum: row.checksum,
    migrationName: row.migration_name,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    rolledBackAt: row.rolled_back_at,
    logs: row.logs,
    appliedStepsCount: row.applied_steps_count,
  }));
}

/** Records that a migration started (`finished_at` NULL until {@link markFinished}). */
export async function insertStarted(
  client: pg.ClientBase,
  row: { id: string; migrationName: string; checksum: string },
): Promise<void> {
  await client.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
    [row.id, row.checksum, row.migrationName],
  );
}

/** Prisma counts one step per script; `clock_timestamp()` so it differs from a same-transaction start. */
export async function markFinished(client: pg.ClientBase, id: string): Promise<void> {
  await client.query(
    `UPDATE "_prisma_migrations"
        SET finished_at = clock_timestamp(), applied_steps_count = applied_steps_count + 1
      WHERE id = $1`,
    [id],
  );
}

/** What `prisma migrate resolve --applied` writes: finished, but no step ran here. */
export async function markResolvedApplied(client: pg.ClientBase, id: string): Promise<void> {
  await client.query(`UPDATE "_prisma_migrations" SET finished_at = now() WHERE id = $1`, [id]);
}

/** Stores the error of a failed migration; `finished_at` stays NULL, which blocks later runs. */
export async function recordFailure(client: pg.ClientBase, id: string, logs: string): Promise<void> {
  await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, logs]);
}

/** What `prisma migrate resolve --rolled-back` writes. */
export async function markRolledBack(client: pg.ClientBase, id: string): Promise<void> {
  await client.query(`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE id = $1`, [id]);
}

/**
 * Takes Prisma's migrate lock on this session, logging when another run holds it, runs
 * `fn`, and releases it. Session-level, so `client` must be one connection, not a pool.
 */
export async function withMigrateLock<T>(
  client: pg.ClientBase,
  log: (msg: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [
    MIGRATE_LOCK_KEY,
  ]);
  if (!rows[0]?.locked) {
    log(`Another migration run holds the lock (pg_advisory_lock(${MIGRATE_LOCK_KEY})); waiting for it`);
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK_KEY]);
  }
  try {
    return await fn();
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK_KEY]).catch(() => {
      // The session is closing anyway, and a closed session releases its locks.
    });
  }
}
