// The shared queue contract against the Postgres driver on PGlite in this process (through the
// pool adapter): one PGlite instance with its data directory in a temp folder, one queue per
// test. Then what embedding needs on top: NOTIFY wake-ups (no polling) and a data directory
// that survives a restart and a SIGKILL.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeQueueDriver } from "./driver.contract.js";
import { createPostgresDriver } from "./postgres-driver.js";
import { migratePostgresQueue } from "./postgres-migrations.js";
import { createPglitePool, type PglitePool } from "./postgres-pglite-pool.js";
import type { QueueDriver } from "./queue-driver.js";

const LEASE_MS = 2_000;

let dir: string;
let db: PGlite;
let pool: PglitePool;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "zixly-queue-pglite-"));
  db = await PGlite.create(path.join(dir, "data"));
  pool = createPglitePool(db);
  await migratePostgresQueue({ pool });
});

afterAll(async () => {
  await pool?.end();
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describeQueueDriver(
  "postgres on PGlite",
  () => {
    const driver = createPostgresDriver({ pool, lockDurationMs: LEASE_MS, stalledIntervalMs: 500 });
    return {
      driver,
      cleanup: () => driver.close({ timeoutMs: 2_000 }),
    };
  },
  { leaseMs: LEASE_MS },
);

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Open `dataDir`, migrate, run `use` on a driver, then close everything again. */
async function withPglite(
  dataDir: string,
  use: (driver: QueueDriver, db: PGlite) => Promise<void>,
): Promise<void> {
  const local = await PGlite.create(dataDir);
  const localPool = createPglitePool(local);
  const driver = createPostgresDriver({ pool: localPool, lockDurationMs: 1_000, stalledIntervalMs: 500 });
  try {
    await migratePostgresQueue({ pool: localPool });
    await use(driver, local);
  } finally {
    await driver.close({ timeoutMs: 1_000 });
    await localPool.end();
    await local.close();
  }
}

describe("postgres driver on PGlite: embedding", () => {
  it("wakes an idle consumer by NOTIFY, not by polling", async () => {
    const driver = createPostgresDriver({ pool, lockDurationMs: LEASE_MS, stalledIntervalMs: 500 });
    const queue = randomUUID();
    const pickups: number[] = [];
    let enqueuedAt = 0;
    const consumer = driver.consume<number>(queue, async () => void pickups.push(Date.now() - enqueuedAt), {
      concurrency: 1,
    });
    try {
      for (let i = 0; i < 3; i++) {
        // Idle long enough that the worker is blocked in its LISTEN wait (BullMQ polls every 5 s).
        await sleep(700);
        enqueuedAt = Date.now();
        await driver.enqueue(queue, [{ id: `wake-${i}`, body: i }]);
        await waitFor(() => pickups.length === i + 1, 10_000, `pickup ${i}`);
      }
      expect(Math.max(...pickups)).toBeLessThan(1_000);
      // PGlite returns int8 as a number or bigint; the adapter returns a string, like pg.
      const raw = await db.query<{ n: unknown }>("SELECT 9007199254740993::int8 AS n");
      expect(typeof raw.rows[0]?.n).toBe("bigint");
      expect((await pool.query<{ n: unknown }>("SELECT 9007199254740993::int8 AS n")).rows[0]?.n).toBe(
        "9007199254740993",
      );
    } finally {
      await consumer.stop();
      await driver.close();
    }
  });

  it("keeps pending messages across a clean restart of the data directory", async () => {
    const home = await mkdtemp(path.join(tmpdir(), "zixly-queue-pglite-restart-"));
    const dataDir = path.join(home, "data");
    const queue = randomUUID();
    try {
      await withPglite(dataDir, (driver) =>
        driver.enqueue(queue, [
          { id: "kept-1", body: 1 },
          { id: "kept-2", body: 2, delayMs: 500 },
        ]),
      );
      await withPglite(dataDir, async (driver) => {
        expect(await driver.depth(queue)).toMatchObject({ waiting: 1, dead: 0 });
        const seen: string[] = [];
        const consumer = driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 1 });
        await waitFor(() => seen.length === 2, 10_000, "both kept messages");
        await consumer.stop();
        expect(seen).toEqual(["kept-1", "kept-2"]);
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 60_000);

  it("keeps enqueued messages when the process holding the data directory is SIGKILLed", async () => {
    const home = await mkdtemp(path.join(tmpdir(), "zixly-queue-pglite-kill-"));
    const dataDir = path.join(home, "data");
    const queue = randomUUID();
    try {
      const script = fileURLToPath(new URL("./test-support/postgres-pglite-process.ts", import.meta.url));
      const child = spawn(process.execPath, ["--conditions=@zixly/source", "--import", "tsx", script], {
        env: { ...process.env, PGLITE_DIR: dataDir, QUEUE_NAME: queue, PGLITE_MESSAGES: "20" },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = once(child, "exit");
      try {
        await waitFor(() => output.includes("enqueued"), 40_000, "the child to enqueue");
      } finally {
        child.kill("SIGKILL");
        await exited;
      }
      await withPglite(dataDir, async (driver) => {
        expect(await driver.depth(queue)).toEqual({ waiting: 20, active: 0, delayed: 0, dead: 0 });
        const seen = new Set<string>();
        const consumer = driver.consume<number>(queue, async (d) => void seen.add(d.id), { concurrency: 4 });
        await waitFor(() => seen.size === 20, 15_000, "every message");
        await consumer.stop();
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 60_000);
});
