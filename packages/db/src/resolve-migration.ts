/**
 * The offline counterpart of `prisma migrate resolve`: after a migration failed, record how
 * it was dealt with so the runner proceeds again.
 */
import { randomUUID } from "node:crypto";
import { MigrationError } from "./migration-error.js";
import { openMigrationSession } from "./migration-session.js";
import { defaultMigrationsDir, readMigrations } from "./migrations-dir.js";
import {
  ensureMigrationsTable,
  insertStarted,
  isApplied,
  isFailed,
  listMigrationRows,
  markResolvedApplied,
  markRolledBack,
  withMigrateLock,
} from "./migrations-table.js";

/**
 * `rolled-back`: its partial changes were undone; the next run applies it again.
 * `applied`: it was completed by hand; the next run skips it.
 */
export type ResolveAction = "rolled-back" | "applied";

/** Options of {@link resolveMigration}. */
export interface ResolveOptions {
  /** Default: the repository's `prisma/migrations`. */
  migrationsDir?: string;
  log?: (msg: string) => void;
}

/**
 * Marks a failed migration as rolled back, or a migration as applied, exactly as
 * `prisma migrate resolve --rolled-back|--applied <name>` records it.
 *
 * @throws {MigrationError} `RESOLVE_REFUSED` when the records do not allow it (not failed,
 *   already applied, unknown migration).
 */
export async function resolveMigration(
  databaseUrl: string,
  migrationName: string,
  action: ResolveAction,
  opts: ResolveOptions = {},
): Promise<void> {
  const log = opts.log ?? (() => {});
  const local = await readMigrations(opts.migrationsDir ?? defaultMigrationsDir());
  const client = await openMigrationSession(databaseUrl);
  try {
    await withMigrateLock(client, log, async () => {
      await ensureMigrationsTable(client);
      const rows = (await listMigrationRows(client)).filter((row) => row.migrationName === migrationName);
      const failed = rows.filter(isFailed);
      if (action === "rolled-back") {
        if (failed.length === 0) {
          throw new MigrationError(
            "RESOLVE_REFUSED",
            migrationName,
            rows.length === 0
              ? `Migration ${migrationName} cannot be rolled back: it was never applied to this database (P3011)`
              : `Migration ${migrationName} cannot be rolled back: it is not in a failed state (P3012)`,
          );
        }
        for (const row of failed) await markRolledBack(client, row.id);
        log(`Marked ${migrationName} as rolled back; the next run applies it again`);
        return;
      }
      const migration = local.find((candidate) => candidate.name === migrationName);
      if (!migration) {
        throw new MigrationError(
          "RESOLVE_REFUSED",
          migrationName,
          `Migration ${migrationName} is not in the migrations directory; pass the whole directory name`,
        );
      }
      if (rows.some(isApplied)) {
        throw new MigrationError(
          "RESOLVE_REFUSED",
          migrationName,
          `Migration ${migrationName} is already recorded as applied in the database (P3008)`,
        );
      }
      // Prisma's order: retire the failed attempts, then record a finished row with 0 steps.
      await client.query("BEGIN");
      try {
        for (const row of failed) await markRolledBack(client, row.id);
        const id = randomUUID();
        await insertStarted(client, { id, migrationName, checksum: migration.checksum });
        await markResolvedApplied(client, id);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      }
      log(`Marked ${migrationName} as applied`);
    });
  } finally {
    await client.end().catch(() => {});
  }
}
