// Postgres-driver cases the shared contract cannot express: outages (on a private cluster this
// file creates, stops and restarts; never the shared server), a SIGKILLed consumer process,
// lease loss, priorities, prefixes, caller-owned pools and the schema migrations.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { LATEST_SCHEMA_VERSION, SchemaMigrationRequiredError } from "bullmq";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { QueueUnavailableError } from "./errors.js";
import { PostgresSearchPathError } from "./postgres-backend.js";
import { createPostgresDriver, type PostgresDriverOptions } from "./postgres-driver.js";
import { migratePostgresQueue } from "./postgres-migrations.js";
import type { Consumer, QueueDriver } from "./queue-driver.js";
import { createScratchDatabase, type ScratchDatabase } from "./test-support/postgres-database.js";
import { createPrivatePostgres, type PrivatePostgres } from "./test-support/postgres-server.js";
import { freePort } from "./test-support/redis-server.js";

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Time a promise that must reject; returns the elapsed ms and the rejection. */
async function timeRejection(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
  throw new Error("expected a rejection");
}

async function sql<R extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(text, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const newSchema = () => `q_${randomBytes(6).toString("hex")}`;

const drivers: QueueDriver[] = [];
const consumers: Consumer[] = [];
const errors: Error[] = [];

function driverFor(connectionString: string, schema: string, extra: Partial<PostgresDriverOptions> = {}) {
  const driver = createPostgresDriver({
    connectionString,
    schema,
    poolSize: 3,
    lockDurationMs: 1_000,
    stalledIntervalMs: 500,
    enqueueTimeoutMs: 2_000,
    reconnectDelayMs: 500,
    // Outages make pg and BullMQ report an error per failed attempt.
    onError: (error) => errors.push(error),
    ...extra,
  });
  drivers.push(driver);
  return driver;
}

afterEach(async () => {
  const leaked = consumers.splice(0);
  await Promise.all(leaked.map((consumer) => consumer.stop({ timeoutMs: 0 })));
  await Promise.all(drivers.splice(0).map((driver) => driver.close({ timeoutMs: 0 })));
});

describe("postgres driver: Postgres outage (private cluster)", () => {
  let server: PrivatePostgres;
  const schema = "zixly_queue";

  beforeAll(async () => {
    server = await createPrivatePostgres();
    await server.start();
    await migratePostgresQueue({ connectionString: server.url });
  }, 60_000);

  afterAll(async () => {
    await server?.dispose();
  });

  it("rejects enqueue promptly while Postgres is down, and consumers resume once it is back", async () => {
    const queue = randomUUID();
    const driver = driverFor(server.url, schema);
    const seen: string[] = [];
    consumers.push(driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 1 }));

    await driver.enqueue(queue, [{ id: "before", body: 1 }]);
    await waitFor(() => seen.includes("before"), 10_000, "the message before the outage");
    // Pending across the outage: due only after Postgres has been down and come back.
    await driver.enqueue(queue, [{ id: "pending", body: 2, delayMs: 3_000 }]);

    await server.kill();
    const down = await timeRejection(driver.enqueue(queue, [{ id: "during", body: 3 }]));
    expect(down.error).toBeInstanceOf(QueueUnavailableError);
    expect(down.ms).toBeLessThan(3_000);
    const depthDown = await timeRejection(driver.depth(queue));
    expect(depthDown.error).toBeInstanceOf(QueueUnavailableError);
    expect(depthDown.ms).toBeLessThan(3_000);

    await sleep(1_000);
    await server.start();

    await waitFor(() => seen.includes("pending"), 30_000, "the pending message after the restart");
    // The producer reconnects by itself too (the receiver's outbox relay retries like this).
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await driver.enqueue(queue, [{ id: "after", body: 4 }]);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(250);
      }
    }
    await waitFor(() => seen.includes("after"), 15_000, "the message after the restart");
    await sleep(500);
    expect(seen.filter((id) => id === "pending")).toHaveLength(1);
    expect(seen).not.toContain("during");
    expect(await driver.depth(queue)).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it("starts a consumer created while Postgres is down once it is up", async () => {
    const queue = randomUUID();
    const driver = driverFor(server.url, schema);
    await server.kill();
    const seen: string[] = [];
    try {
      consumers.push(driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 2 }));
      await sleep(1_500);
    } finally {
      await server.start();
    }
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await driver.enqueue(queue, [{ id: "late-start", body: 1 }]);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(250);
      }
    }
    await waitFor(() => seen.includes("late-start"), 30_000, "the delivery after Postgres came up");
  });

  it("stops a consumer promptly while Postgres is down", async () => {
    const queue = randomUUID();
    const driver = driverFor(server.url, schema);
    const seen: string[] = [];
    const consumer = driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 2 });
    consumers.push(consumer);
    await driver.enqueue(queue, [{ id: "warm-up", body: 1 }]);
    await waitFor(() => seen.length === 1, 10_000, "the consumer to run");
    await server.kill();
    try {
      const started = Date.now();
      await consumer.stop({ timeoutMs: 1_000 });
      await driver.close({ timeoutMs: 1_000 });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await server.start();
    }
  });
});

describe("postgres driver: unreachable Postgres", () => {
  it("rejects enqueue within enqueueTimeoutMs when nothing listens", async () => {
    const driver = driverFor(`postgresql://postgres@127.0.0.1:${await freePort()}/postgres`, "zixly_queue", {
      enqueueTimeoutMs: 1_500,
    });
    const attempt = await timeRejection(driver.enqueue("q", [{ id: "lost", body: 1 }]));
    expect(attempt.error).toBeInstanceOf(QueueUnavailableError);
    expect(attempt.ms).toBeLessThan(3_000);
  });

  it("rejects enqueue within enqueueTimeoutMs when the server accepts but never answers", async () => {
    const sockets = new Set<net.Socket>();
    const hung = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
    });
    hung.listen(0, "127.0.0.1");
    await once(hung, "listening");
    const { port } = hung.address() as net.AddressInfo;
    try {
      const driver = driverFor(`postgresql://postgres@127.0.0.1:${port}/postgres`, "zixly_queue", {
        enqueueTimeoutMs: 1_500,
      });
      const attempt = await timeRejection(driver.enqueue("q", [{ id: "lost", body: 1 }]));
      expect(attempt.error).toBeInstanceOf(QueueUnavailableError);
      expect(attempt.ms).toBeGreaterThanOrEqual(1_400);
      expect(attempt.ms).toBeLessThan(3_000);
      const depth = await timeRejection(driver.depth("q"));
      expect(depth.error).toBeInstanceOf(QueueUnavailableError);
      expect(depth.ms).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      hung.close();
    }
  });

  it("rejects ids and bodies the backend cannot store, before any I/O", async () => {
    // Nothing listens on this port: a round trip would fail with QueueUnavailableError, not TypeError.
    const driver = driverFor(`postgresql://postgres@127.0.0.1:${await freePort()}/postgres`, "zixly_queue");
    await expect(driver.enqueue("q", [{ id: "tenant:1", body: 1 }])).rejects.toThrow(TypeError);
    await expect(driver.enqueue("q", [{ id: "42", body: 1 }])).rejects.toThrow(/integers/);
    await expect(driver.enqueue("a:b", [{ id: "ok", body: 1 }])).rejects.toThrow(TypeError);
    // What jsonb / text cannot store would fail on every retry, so it is refused up front too.
    await expect(driver.enqueue("q", [{ id: "nul", body: "a\u0000b" }])).rejects.toThrow(TypeError);
    await expect(driver.enqueue("q", [{ id: "half", body: "x\ud800" }])).rejects.toThrow(TypeError);
    await expect(driver.enqueue("q\u0000", [{ id: "ok", body: 1 }])).rejects.toThrow(TypeError);
  });

  it("validates its options", () => {
    expect(() => createPostgresDriver({} as PostgresDriverOptions)).toThrow(/connectionString or pool/);
    expect(() => createPostgresDriver({ connectionString: "postgresql://x/y", schema: "bad-name" })).toThrow(
      /schema/,
    );
    expect(() => createPostgresDriver({ connectionString: "postgresql://x/y", prefix: "a.b" })).toThrow(
      /prefix/,
    );
    expect(() => createPostgresDriver({ connectionString: "postgresql://x/y", poolSize: 1 })).toThrow(
      /poolSize/,
    );
  });
});

describe("postgres driver: on the shared server", () => {
  let db: ScratchDatabase;
  let schema: string;

  beforeAll(async () => {
    db = await createScratchDatabase();
    schema = newSchema();
    await migratePostgresQueue({ connectionString: db.url, schema });
  });

  afterAll(async () => {
    await db?.drop();
  });

  describe("migrations", () => {
    it("creates the schema once, also when run concurrently, and is a no-op afterwards", async () => {
      const fresh = newSchema();
      const runs = await Promise.all(
        Array.from({ length: 5 }, () => migratePostgresQueue({ connectionString: db.url, schema: fresh })),
      );
      expect(runs.every((run) => run.schema === fresh && run.to === LATEST_SCHEMA_VERSION)).toBe(true);
      // Exactly one run found the schema missing; the others waited for it and found it done.
      expect(runs.filter((run) => run.from === 0).length).toBeGreaterThanOrEqual(1);
      const again = await migratePostgresQueue({ connectionString: db.url, schema: fresh });
      expect(again).toEqual({ schema: fresh, from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION });
      const ledger = await sql<{ count: number }>(
        db.url,
        `SELECT count(*)::int AS count FROM "${fresh}".migration`,
      );
      expect(ledger[0]!.count).toBe(LATEST_SCHEMA_VERSION);
      const tables = await sql<{ name: string }>(
        db.url,
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
        [fresh],
      );
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(["job", "meta", "event", "migration"]),
      );
    });

    it("fails with SchemaMigrationRequiredError as the cause until the schema is migrated", async () => {
      const missing = newSchema();
      const driver = driverFor(db.url, missing);
      const attempt = await timeRejection(driver.enqueue("q", [{ id: "early", body: 1 }]));
      expect(attempt.error).toBeInstanceOf(QueueUnavailableError);
      expect((attempt.error as Error).cause).toBeInstanceOf(SchemaMigrationRequiredError);
    });

    it("a consumer started before the migration picks up once the schema exists", async () => {
      const later = newSchema();
      const driver = driverFor(db.url, later);
      const queue = randomUUID();
      const seen: string[] = [];
      consumers.push(driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 1 }));
      await sleep(1_000);
      await migratePostgresQueue({ connectionString: db.url, schema: later });
      await driver.enqueue(queue, [{ id: "after-migration", body: 1 }]);
      await waitFor(() => seen.includes("after-migration"), 15_000, "the delivery after the migration");
    });
  });

  it("redelivers the message of a consumer process killed mid-handler", async () => {
    const queue = randomUUID();
    const driver = driverFor(db.url, schema);
    await driver.enqueue(queue, [{ id: "orphan", body: 1, attempts: 1 }]);
    const script = fileURLToPath(new URL("./test-support/postgres-consumer-process.ts", import.meta.url));
    const child: ChildProcess = spawn(
      process.execPath,
      ["--conditions=@zixly/source", "--import", "tsx", script],
      {
        env: {
          ...process.env,
          QUEUE_DATABASE_URL: db.url,
          QUEUE_SCHEMA: schema,
          QUEUE_NAME: queue,
          QUEUE_LEASE_MS: "1000",
          QUEUE_STALLED_MS: "500",
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = once(child, "exit");
    try {
      await waitFor(() => output.includes("started orphan 1"), 20_000, "the child to start the handler");
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    const killedAt = Date.now();
    const seen: Array<[string, number]> = [];
    consumers.push(
      driver.consume<number>(queue, async (d) => void seen.push([d.id, d.attempt]), { concurrency: 1 }),
    );
    await waitFor(() => seen.length === 1, 15_000, "the redelivery");
    // Lease 1 s + two stalled checks 0.5 s apart, with slack for a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    await sleep(300);
    expect(seen).toEqual([["orphan", 1]]);
    expect(await driver.depth(queue)).toEqual({ waiting: 0, active: 0, delayed: 0, dead: 0 });
  });

  it("a consumer stopped under load hands back what it fetched: nothing active, no attempt used", async () => {
    const queue = randomUUID();
    const driver = driverFor(db.url, schema);
    const ids = Array.from({ length: 300 }, (_, i) => `load-${i}`);
    await driver.enqueue(
      queue,
      ids.map((id) => ({ id, body: 1, attempts: 1 })),
    );
    const first: string[] = [];
    // Instant handlers: the worker is nearly always in the middle of an ack that also fetches
    // the next message, so stopping catches fetches in flight, which must go back to the queue.
    const consumer = driver.consume<number>(queue, async (d) => void first.push(d.id), { concurrency: 4 });
    await waitFor(() => first.length >= 30, 10_000, "the first deliveries");
    await consumer.stop();
    const depth = await driver.depth(queue);
    expect(depth.active).toBe(0);
    expect(depth.dead).toBe(0);
    expect(depth.waiting + depth.delayed).toBe(ids.length - first.length);
    const rest: Array<[string, number]> = [];
    consumers.push(
      driver.consume<number>(queue, async (d) => void rest.push([d.id, d.attempt]), { concurrency: 4 }),
    );
    await waitFor(() => first.length + rest.length === ids.length, 15_000, "the rest");
    expect([...first, ...rest.map(([id]) => id)].sort()).toEqual([...ids].sort());
    expect(rest.every(([, attempt]) => attempt === 1)).toBe(true);
  });

  it("aborts the handler's signal when its lease is lost", async () => {
    const queue = randomUUID();
    const driver = driverFor(db.url, schema);
    let signal: AbortSignal | undefined;
    let reason: unknown;
    consumers.push(
      driver.consume<number>(
        queue,
        async (d) => {
          if (d.attempt > 1 || signal) return;
          signal = d.signal;
          await new Promise<void>((resolve) => d.signal.addEventListener("abort", () => resolve()));
          reason = d.signal.reason;
        },
        { concurrency: 1 },
      ),
    );
    await driver.enqueue(queue, [{ id: "leased", body: 1 }]);
    await waitFor(() => signal !== undefined, 10_000, "the delivery");
    // Another party taking the lock away is what "lease lost" looks like to this worker.
    const stolen = await sql(
      db.url,
      `UPDATE "${schema}".job SET lock_token = 'stolen' WHERE queue = $1 AND id = 'leased' RETURNING id`,
      [queue],
    );
    expect(stolen).toHaveLength(1);
    await waitFor(() => signal?.aborted === true, 5_000, "the abort");
    expect(String(reason)).toContain("lease lost");
  });

  it("applies the driver's default attempts and backoff", async () => {
    const queue = randomUUID();
    const driver = driverFor(db.url, schema, {
      defaultAttempts: 2,
      defaultBackoff: { type: "fixed", delayMs: 100 },
    });
    const attempts: Array<[number, number]> = [];
    consumers.push(
      driver.consume<number>(
        queue,
        async (d) => {
          attempts.push([d.attempt, d.maxAttempts]);
          throw new Error("always");
        },
        { concurrency: 1 },
      ),
    );
    await driver.enqueue(queue, [{ id: "defaults", body: 1 }]);
    await waitFor(() => attempts.length === 2, 10_000, "both attempts");
    await sleep(300);
    expect(attempts).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect((await driver.depth(queue)).dead).toBe(1);
  });

  it("delivers unprioritised messages first, then by ascending priority", async () => {
    const queue = randomUUID();
    const driver = driverFor(db.url, schema);
    await driver.enqueue(queue, [
      { id: "p-5", body: 5, priority: 5 },
      { id: "p-1", body: 1, priority: 1 },
      { id: "none", body: 0 },
      { id: "p-3", body: 3, priority: 3 },
    ]);
    const seen: string[] = [];
    consumers.push(driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 1 }));
    await waitFor(() => seen.length === 4, 10_000, "all deliveries");
    expect(seen).toEqual(["none", "p-1", "p-3", "p-5"]);
  });

  it("lists dead letters most recent first, up to the limit", async () => {
    const queue = randomUUID();
    const driver = driverFor(db.url, schema);
    const consumer = driver.consume<number>(
      queue,
      async (d) => {
        throw new Error(`failed ${d.id}`);
      },
      { concurrency: 1 },
    );
    consumers.push(consumer);
    for (const id of ["dead-1", "dead-2", "dead-3"]) {
      await driver.enqueue(queue, [{ id, body: 1, attempts: 1 }]);
      const deadline = Date.now() + 10_000;
      while ((await driver.depth(queue)).dead < Number(id.slice(-1))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${id} to die`);
        await sleep(25);
      }
    }
    const dead = await driver.deadLetters!(queue, 2);
    expect(dead.map((d) => d.id)).toEqual(["dead-3", "dead-2"]);
    expect(dead[0]).toMatchObject({ body: 1, attempts: 1, error: "failed dead-3" });
  });

  it("keeps queues of different prefixes apart in one schema", async () => {
    const queue = randomUUID();
    const blue = driverFor(db.url, schema, { prefix: "blue" });
    const green = driverFor(db.url, schema, { prefix: "green" });
    await blue.enqueue(queue, [{ id: "same-id", body: "blue" }]);
    await green.enqueue(queue, [{ id: "same-id", body: "green" }]);
    expect((await blue.depth(queue)).waiting).toBe(1);
    expect((await green.depth(queue)).waiting).toBe(1);
    const seen: string[] = [];
    consumers.push(green.consume<string>(queue, async (d) => void seen.push(d.body), { concurrency: 1 }));
    await waitFor(() => seen.length === 1, 10_000, "the green delivery");
    await sleep(300);
    expect(seen).toEqual(["green"]);
    expect((await blue.depth(queue)).waiting).toBe(1);
    const rows = await sql<{ queue: string }>(
      db.url,
      `SELECT queue FROM "${schema}".job WHERE id = 'same-id'`,
    );
    expect(rows.map((r) => r.queue)).toEqual([`blue.${queue}`]);
  });

  it("runs on a caller's pg.Pool whose search_path leads to the schema", async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 6, options: `-c search_path="${schema}"` });
    try {
      const driver = createPostgresDriver({ pool, schema, lockDurationMs: 1_000, stalledIntervalMs: 500 });
      drivers.push(driver);
      const queue = randomUUID();
      const seen: string[] = [];
      consumers.push(driver.consume<number>(queue, async (d) => void seen.push(d.id), { concurrency: 2 }));
      await driver.enqueue(queue, [
        { id: "pooled-1", body: 1 },
        { id: "pooled-2", body: 2 },
      ]);
      await waitFor(() => seen.length === 2, 10_000, "both deliveries");
      await driver.close();
      drivers.splice(drivers.indexOf(driver), 1);
      // The driver leaves the caller's pool open.
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it("refuses a caller's pool whose search_path does not lead to the schema", async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const driver = createPostgresDriver({ pool, schema, onError: (error) => errors.push(error) });
      drivers.push(driver);
      const attempt = await timeRejection(driver.enqueue("q", [{ id: "nowhere", body: 1 }]));
      expect(attempt.error).toBeInstanceOf(QueueUnavailableError);
      expect((attempt.error as Error).cause).toBeInstanceOf(PostgresSearchPathError);
    } finally {
      await closeDrivers();
      await pool.end();
    }
  });
});

async function closeDrivers(): Promise<void> {
  await Promise.all(drivers.splice(0).map((driver) => driver.close({ timeoutMs: 0 })));
}
