#!/usr/bin/env node
/**
 * `npm run db:migrate`: creates the database named by DATABASE_URL if needed and applies
 * pending migrations from prisma/migrations (docs/database.md).
 *
 *   node packages/db/dist/cli/migrate.js                         apply pending migrations
 *   node packages/db/dist/cli/migrate.js --rolled-back <name>    after a failure: re-apply it next run
 *   node packages/db/dist/cli/migrate.js --applied <name>        after a failure: it was finished by hand
 *   --migrations-dir <dir>                                       another migrations directory (default: prisma/migrations)
 */
import { parseArgs } from "node:util";
import { ensureDatabase } from "../ensure-database.js";
import { migrate } from "../migrate.js";
import { MigrationError } from "../migration-error.js";
import { resolveMigration } from "../resolve-migration.js";

/** Host and database only: never print credentials. */
function describe(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.host}${url.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "rolled-back": { type: "string" },
      applied: { type: "string" },
      "migrations-dir": { type: "string" },
    },
  });
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error(
      "DATABASE_URL is not set. Set it to the PostgreSQL database to migrate, e.g.\n" +
        "  DATABASE_URL=postgresql://postgres@127.0.0.1:5432/zixly npm run db:migrate",
    );
    return 2;
  }
  const log = (msg: string) => console.log(`[db:migrate] ${msg}`);
  const migrationsDir = values["migrations-dir"];
  const opts = migrationsDir ? { migrationsDir, log } : { log };

  if (values["rolled-back"] && values.applied) {
    console.error("Pass either --rolled-back or --applied, not both");
    return 2;
  }
  const resolve = values["rolled-back"]
    ? { name: values["rolled-back"], action: "rolled-back" as const }
    : values.applied
      ? { name: values.applied, action: "applied" as const }
      : undefined;
  if (resolve) {
    await resolveMigration(databaseUrl, resolve.name, resolve.action, opts);
    return 0;
  }

  const { created } = await ensureDatabase(databaseUrl);
  if (created) log(`Created database ${describe(databaseUrl)}`);
  const { applied } = await migrate(databaseUrl, opts);
  log(
    applied.length === 0
      ? `${describe(databaseUrl)} is up to date`
      : `Applied ${applied.length} migration(s) to ${describe(databaseUrl)}: ${applied.join(", ")}`,
  );
  return 0;
}

/** One readable line per cause; stacks only with DEBUG set (they rarely help an operator). */
function formatError(err: unknown, databaseUrl: string | undefined): string {
  if (err instanceof MigrationError) return err.message;
  if (!(err instanceof Error)) return String(err);
  if (process.env.DEBUG) return err.stack ?? err.message;
  const code = "code" in err && typeof err.code === "string" ? err.code : undefined;
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  const message =
    err instanceof AggregateError && err.message === "" ? err.errors.map(String).join("; ") : err.message;
  if (code && /^E[A-Z]+$/.test(code) && databaseUrl) {
    return `Cannot reach PostgreSQL at ${describe(databaseUrl)}: ${message}`;
  }
  return err.cause instanceof Error ? `${message}: ${err.cause.message}` : message;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`[db:migrate] ${formatError(err, process.env.DATABASE_URL)}`);
    process.exitCode = 1;
  },
);
