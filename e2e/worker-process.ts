// Runs the real worker entry point (apps/worker/src/main.ts) as a child process, from the
// TypeScript sources, so process-level behaviour (signals, exit codes) is tested as deployed.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Pipeline, REDIS_URL } from "./harness.js";

const root = fileURLToPath(new URL("..", import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnWorker(pipeline: Pipeline, env: Record<string, string> = {}): WorkerProcess {
  let output = "";
  const child = spawn(
    process.execPath,
    ["--conditions=@zixly/source", "--import", "tsx", "apps/worker/src/main.ts"],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_URL: pipeline.db.url,
        REDIS_URL,
        QUEUE_PREFIX: pipeline.prefix,
        ZIXLY_ENCRYPTION_KEY: pipeline.encryptionKey,
        XERO_API_BASE_URL: pipeline.xero.url,
        HUBSPOT_API_BASE_URL: pipeline.hubspot.url,
        WORKER_METRICS_PORT: "0",
        WORKER_CONCURRENCY: "2",
        RETRY_MAX_DELAY_MS: "200",
        LOG_LEVEL: "info",
        PUBLIC_BASE_URL: pipeline.baseUrl,
        WORKFLOW_MODULES: "e2e/fixtures/test-workflows.ts",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
