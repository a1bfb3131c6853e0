// A worker process killed mid-job under the SQS driver: its message stays invisible while the
// process lives (the heartbeat extends the visibility timeout), becomes visible again once the
// last extension lapses after the SIGKILL, and another consumer then runs it once, to
// completion, without the crash using up an attempt.
import "./test-support/sqs-sdk-guard.js";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Consumer, QueueDriver } from "./queue-driver.js";
import { createSqsDriver } from "./sqs-driver.js";
import {
  createTestPendingIds,
  type SqsBackend,
  startSqsBackend,
  TEST_DATABASE_URL,
  type TestPendingIds,
  testQueues,
} from "./test-support/sqs-fixtures.js";

const VISIBILITY_SEC = 2;
const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const CHILD = fileURLToPath(new URL("./test-support/sqs-crash-child.ts", import.meta.url));

let backend: SqsBackend;
let pendingIds: TestPendingIds;
let child: ChildProcess | undefined;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  backend = await startSqsBackend();
  pendingIds = await createTestPendingIds();
});

afterEach(async () => {
  child?.kill("SIGKILL");
  child = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await pendingIds?.dispose();
  await backend?.close();
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

describe("sqs driver: a worker killed mid-job", () => {
  it("keeps the message while the worker lives, then redelivers it once to another consumer", async () => {
    const queues = testQueues(backend);
    cleanups.push(() => queues.deleteAll());
    const urls = await queues.resolve(randomUUID());
    const driver: QueueDriver = createSqsDriver({
      region: backend.region,
      endpoint: backend.endpoint,
      credentials: backend.credentials,
      queueUrls: { jobs: urls },
      pendingIds: pendingIds.store,
      visibilityTimeoutSec: VISIBILITY_SEC,
      waitTimeSeconds: 1,
    });
    cleanups.push(() => driver.close({ timeoutMs: 0 }));

    // The doomed worker: a separate Node process running the driver from source.
    const lines: string[] = [];
    child = spawn(process.execPath, ["--conditions=@zixly/source", "--import", "tsx", CHILD], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CRASH_SQS_ENDPOINT: backend.endpoint,
        CRASH_SQS_REGION: backend.region,
        CRASH_QUEUE_URL: urls.url,
        CRASH_DLQ_URL: urls.dlqUrl,
        CRASH_DATABASE_URL: TEST_DATABASE_URL,
        CRASH_PENDING_TABLE: pendingIds.table,
        CRASH_VISIBILITY_SEC: String(VISIBILITY_SEC),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout?.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
    await waitFor(() => lines.includes("ready"), 30_000, `the worker process to start (stderr: ${stderr})`);

    // attempts: 1 — the crash must not use up the message's only attempt.
    await driver.enqueue("jobs", [{ id: "job-1", body: { jobId: "1" }, attempts: 1 }]);
    await waitFor(() => lines.includes("started job-1 1"), 15_000, "the worker to start the job");

    // A second consumer competes from now on. While the worker lives, its heartbeat keeps the
    // message for well past one visibility timeout.
    const seen: { id: string; attempt: number; at: number }[] = [];
    let completed = 0;
    const rescuer: Consumer = driver.consume<{ jobId: string }>(
      "jobs",
      async (d) => {
        seen.push({ id: d.id, attempt: d.attempt, at: Date.now() });
        await sleep(300);
        completed += 1;
      },
      { concurrency: 2 },
    );
    cleanups.push(() => rescuer.stop({ timeoutMs: 0 }));
    await sleep(2.5 * VISIBILITY_SEC * 1000);
    expect(seen).toEqual([]);
    expect(await driver.depth("jobs")).toEqual({ waiting: 0, active: 1, delayed: 0, dead: 0 });

    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    const killedAt = Date.now();

    await waitFor(() => completed === 1, VISIBILITY_SEC * 1000 + 10_000, "the redelivered job to complete");
    // The last extension before the kill held the message for up to one more visibility timeout
    // (at least two thirds of it, the heartbeat running every third).
    expect(seen[0]!.at - killedAt).toBeGreaterThanOrEqual((VISIBILITY_SEC * 1000 * 2) / 3 - 250);
    // Once, and nothing comes back afterwards.
    await sleep(2 * VISIBILITY_SEC * 1000);
    await rescuer.stop();
    expect(seen.map(({ id, attempt }) => ({ id, attempt }))).toEqual([{ id: "job-1", attempt: 1 }]);
    expect(completed).toBe(1);
    expect(await driver.depth("jobs")).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
    // The ack released the id: it is no longer pending anywhere.
    const { rows } = await pendingIds.pool.query(`SELECT id FROM ${pendingIds.table} WHERE queue = $1`, [
      urls.url,
    ]);
    expect(rows).toEqual([]);
  });
});
