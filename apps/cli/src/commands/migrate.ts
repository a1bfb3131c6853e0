import { readdirSync } from "node:fs";
import { defaultMigrationsDir, ensureDatabase, migrate } from "@zixly/db";
import type { CliIo } from "../io.js";
import { UsageError } from "../io.js";
import { progress } from "../progress.js";

/** Creates the database if needed and applies pending migrations, with progress. */
export async function runMigrations(databaseUrl: string | undefined, io: CliIo): Promise<string[]> {
  if (!databaseUrl)
    throw new UsageError(
      "DATABASE_URL is not set (see .env.example); without it `zixly dev` runs an embedded database and migrates it itself",
    );
  const { created } = await ensureDatabase(databaseUrl);
  if (created) io.err(`created database ${new URL(databaseUrl).pathname.slice(1)}`);
  const total = readdirSync(defaultMigrationsDir()).filter((d) => /^\d{14}_/.test(d)).length;
  const bar = progress(io, "migrations", total);
  const result = await migrate(databaseUrl, {
    log: (line) => {
      if (line.startsWith("Applied") || line.startsWith("Already")) bar.tick();
    },
  });
  bar.finish();
  for (const warning of result.warnings) io.err(`warning: ${warning}`);
  io.err(result.applied.length > 0 ? `applied ${result.applied.join(", ")}` : "database is up to date");
  return result.applied;
}
