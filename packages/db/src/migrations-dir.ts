/**
 * Reading `prisma/migrations` the way Prisma Migrate does: one directory per migration,
 * applied in lexicographic order of the directory names, each holding `migration.sql`
 * whose SHA-256 is the checksum recorded in `_prisma_migrations`.
 */
import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A migration found on disk. */
export interface LocalMigration {
  /** Directory name, e.g. `20261121000000_init`; the `migration_name` Prisma records. */
  name: string;
  /** Absolute path of its `migration.sql`. */
  scriptPath: string;
  /** The script, decoded as UTF-8. */
  script: string;
  /** Lowercase hex SHA-256 of the exact bytes of `migration.sql`. */
  checksum: string;
}

/** Lowercase hex SHA-256: the checksum Prisma stores for a migration script. */
export function checksumOf(script: string | Uint8Array): string {
  return createHash("sha256").update(script).digest("hex");
}

/**
 * Whether a script still matches a recorded checksum. Like Prisma, line endings do not
 * count: git may check a file out with CRLF on one machine and LF on another.
 */
export function scriptMatchesChecksum(script: string, checksum: string): boolean {
  const variants = [
    script,
    script.replaceAll("\r\n", "\n"),
    script.replaceAll("\r\n", "\n").replaceAll("\n", "\r\n"),
  ];
  return variants.some((variant) => checksumOf(variant) === checksum);
}

/**
 * The repository's `prisma/migrations`, found by walking up from this module. Walking up
 * (rather than a fixed `../..`) works from `src/` under Vitest and from `dist/` at runtime.
 */
export function defaultMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, "prisma", "migrations");
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(
        `No prisma/migrations directory above ${fileURLToPath(import.meta.url)}; pass migrationsDir explicitly`,
      );
    }
    dir = parent;
  }
}

/**
 * Refuses a migrations directory locked to another provider: its SQL would not be
 * PostgreSQL (`prisma migrate deploy` refuses too).
 */
async function assertPostgresLock(dir: string): Promise<void> {
  let lock: string;
  try {
    lock = await readFile(path.join(dir, "migration_lock.toml"), "utf8");
  } catch {
    return; // Prisma treats a missing lock file as "no provider recorded yet".
  }
  const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(lock)?.[1];
  if (provider !== undefined && provider !== "postgresql") {
    throw new Error(
      `${path.join(dir, "migration_lock.toml")} is for provider "${provider}", not "postgresql"`,
    );
  }
}

/** All migrations in `dir`, in the order they apply. */
export async function readMigrations(dir: string): Promise<LocalMigration[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`Cannot read the migrations directory ${dir}`, { cause: err });
  }
  await assertPostgresLock(dir);
  // Code-unit order, as Prisma (Rust string order) sorts: names start with a UTC timestamp.
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    names.map(async (name) => {
      const scriptPath = path.join(dir, name, "migration.sql");
      let bytes: Buffer;
      try {
        bytes = await readFile(scriptPath);
      } catch (err) {
        throw new Error(`Migration directory ${path.join(dir, name)} has no readable migration.sql`, {
          cause: err,
        });
      }
      return { name, scriptPath, script: bytes.toString("utf8"), checksum: checksumOf(bytes) };
    }),
  );
}
