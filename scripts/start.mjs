#!/usr/bin/env node
// `npm start`: `zixly dev` in this checkout (`prestart` has built the workspace). The CLI loads
// .env (writing it from .env.example with a generated encryption key and admin token on first
// run), applies migrations and runs the receiver and one worker in this process until
// Ctrl-C / SIGTERM, when both drain before exit.
//
// Without DATABASE_URL (the default .env) the database and the queue run embedded: PostgreSQL
// as PGlite and BullMQ's PostgreSQL backend, data in .zixly/data, so nothing but Node is
// needed (docs/local-mode.md). With DATABASE_URL set it uses that Postgres and the configured
// QUEUE_DRIVER (bullmq → REDIS_URL, postgres, sqs).
//
// Production-style separate processes are `npm run start:receiver` and `npm run start:worker`;
// they have no embedded mode and need DATABASE_URL (and the queue's settings) in their environment.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "apps/cli/dist/cli.js");

if (!existsSync(cli)) {
  console.error(
    "[start] apps/cli is not built: run `npm start` (its prestart builds) or `npm run build` first",
  );
  process.exit(1);
}

const { runCli } = await import(pathToFileURL(cli).href);
process.exitCode = await runCli(["dev"], undefined, root);
