import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ApiError } from "./api-client.js";
import { endpointCreate, jobsGet, jobsList, jobsReplay, tenantCreate } from "./commands/api-commands.js";
import { runDemo } from "./commands/demo.js";
import { runMigrations } from "./commands/migrate.js";
import { startLocalPipeline, untilSignal } from "./commands/pipeline.js";
import { loadEnvFile } from "./env-file.js";
import { type CliIo, EXIT, processIo, UsageError } from "./io.js";

export const usage = `zixly — self-hosted workflow automation

Usage: zixly <command> [options]

Commands:
  dev                         run receiver + worker in this process (applies migrations first);
                              without DATABASE_URL: embedded PostgreSQL + queue in $ZIXLY_DATA_DIR
                              (default ./.zixly/data), no Postgres or Redis needed
  migrate                     create the database if needed and apply migrations
  demo [--exit]               start the vendor sandboxes and the pipeline, send demo webhooks,
                              print where to look (--exit: stop when the demo jobs finish)
  tenant create --name N      create a tenant; prints its API key once (needs ZIXLY_ADMIN_TOKEN)
  endpoint create --source S --name N [--secret K]
                              create a webhook endpoint (xero, hubspot, shopify, asana, standard)
  jobs list [--status S] [--workflow W] [--limit N] [--json]
  jobs get <id>
  jobs replay <id> [--from-scratch]
  jobs replay --all-failed [--workflow W] [--from-scratch]
  workflow new <name> [--source S] [--event E]
                              scaffold a workflow, its fixture and its test

Options:
  --url URL        receiver base URL (default $ZIXLY_URL or http://127.0.0.1:$PORT)
  --token T        API key (default $ZIXLY_API_KEY; tenant create: $ZIXLY_ADMIN_TOKEN)
  -h, --help       this help

Configuration comes from the environment and ./.env (see .env.example, docs/local-mode.md).
Exit codes: 0 ok, 1 failed, 2 usage error, 78 bad configuration.`;

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Runs the CLI; returns the exit code (the caller exits). */
export async function runCli(argv: string[], io: CliIo = processIo, cwd = process.cwd()): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`error: ${(err as Error).message}\n\nRun zixly --help for usage.`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    io.out(usage);
    return positionals.length === 0 && !values.help ? EXIT.usage : EXIT.ok;
  }
  const [command, sub, arg] = positionals;
  const { env, created } = loadEnvFile(cwd, command === "dev" || command === "demo");
  if (created)
    io.err(`wrote ${join(cwd, ".env")} from .env.example with a generated encryption key and admin token`);
  const url = values.url ?? env.ZIXLY_URL ?? `http://127.0.0.1:${env.PORT ?? "3000"}`;
  const apiKey = { url, token: values.token ?? env.ZIXLY_API_KEY };

  try {
    switch (
      `${command} ${command === "dev" || command === "migrate" || command === "demo" ? "" : (sub ?? "")}`.trim()
    ) {
      case "dev": {
        const pipeline = await startLocalPipeline(env, io, { cwd });
        io.err(`zixly dev running — Ctrl-C to stop`);
        await untilSignal();
        await pipeline.stop();
        return EXIT.ok;
      }
      case "migrate":
        await runMigrations(env.DATABASE_URL, io);
        return EXIT.ok;
      case "demo": {
        const statuses = await runDemo(env, io, { exit: Boolean(values.exit), cwd });
        const finished = Object.values(statuses);
        return finished.length > 0 && finished.every((s) => s === "COMPLETED") ? EXIT.ok : EXIT.failure;
      }
      case "tenant create":
        await tenantCreate({ url, token: values.token ?? env.ZIXLY_ADMIN_TOKEN }, io, values.name);
        return EXIT.ok;
      case "endpoint create":
        await endpointCreate(apiKey, io, { source: values.source, name: values.name, secret: values.secret });
        return EXIT.ok;
      case "jobs list":
        await jobsList(apiKey, io, {
          status: values.status,
          workflow: values.workflow,
          limit: values.limit,
          json: values.json,
        });
        return EXIT.ok;
      case "jobs get":
        await jobsGet(apiKey, io, arg);
        return EXIT.ok;
      case "jobs replay":
        await jobsReplay(apiKey, io, {
          id: arg,
          allFailed: values["all-failed"],
          workflow: values.workflow,
          fromScratch: values["from-scratch"],
        });
        return EXIT.ok;
      case "workflow new": {
        const script = join(root, "scripts", "new-workflow.mjs");
        if (!existsSync(script))
          throw new Error("workflow new runs inside a Zixly checkout (scripts/new-workflow.mjs)");
        if (!arg)
          throw new UsageError("workflow new needs a name, e.g. zixly workflow new shopify-refund-to-xero");
        const extra = [
          ...(values.source ? ["--source", values.source] : []),
          ...(values.event ? ["--event", values.event] : []),
        ];
        const run = spawnSync(process.execPath, [script, arg, ...extra], { cwd: root, stdio: "inherit" });
        return run.status === 0 ? EXIT.ok : run.status === 2 ? EXIT.usage : EXIT.failure;
      }
      default:
        throw new UsageError(`unknown command "${positionals.join(" ")}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n\nRun zixly --help for usage.`);
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      io.err(`error: ${err.message} (${err.code}${err.status ? `, HTTP ${err.status}` : ""})`);
      return EXIT.failure;
    }
    if (err instanceof Error && /^Invalid (receiver|worker) configuration/.test(err.message)) {
      io.err(err.message);
      return EXIT.config;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failure;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      url: { type: "string" },
      token: { type: "string" },
      name: { type: "string" },
      source: { type: "string" },
      event: { type: "string" },
      secret: { type: "string" },
      status: { type: "string" },
      workflow: { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
      exit: { type: "boolean" },
      "all-failed": { type: "boolean" },
      "from-scratch": { type: "boolean" },
    },
  });
}
