/**
 * Embedded services for `zixly dev` / `zixly demo` when no `DATABASE_URL` is configured: the
 * app database and the job queue run inside this process, on PGlite (PostgreSQL compiled to
 * WebAssembly), with their data in a local folder so a restart keeps tenants, jobs and queue.
 *
 * - **App database** (`<dataDir>/db`): a PGlite instance behind `pglite-socket`'s TCP server on
 *   127.0.0.1 and a free port, so Prisma (`@prisma/adapter-pg`) and the migration runner (`pg`)
 *   connect with an ordinary `DATABASE_URL`. All connections share PGlite's one session, and
 *   the server queues single protocol messages, so concurrent extended-protocol clients can
 *   interleave: give the app ONE busy connection (a Prisma pool of 1); short-lived extras
 *   (the migration run before it, `psql`'s simple queries) are fine.
 * - **Queue** (`<dataDir>/queue`): a second PGlite, in-process behind `createPglitePool`, running
 *   BullMQ's PostgreSQL backend (`createPostgresDriver`). It needs its own instance: the pool
 *   sets the instance's `search_path` to the queue schema, and `LISTEN`/`NOTIFY` only reaches
 *   the right consumer in-process (over the socket, workers would fall back to 5 s polling).
 *
 * See docs/local-mode.md.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import type { QueueDriver } from "@zixly/queue";
import { createPglitePool, createPostgresDriver, migratePostgresQueue } from "@zixly/queue/postgres";

/** Options of {@link startEmbeddedServices}. */
export interface EmbeddedOptions {
  /** Folder holding `db/` (app database) and `queue/` (job queue); created if missing. */
  dataDir: string;
  /** Start the embedded queue too (default true); false when another queue driver is configured. */
  queue?: boolean;
  /** Queue lease (BullMQ lock) and stalled-check interval, ms. Default the driver's 30 000. */
  queueLockMs?: number;
  /** Most socket connections to the app database (default 10: room for the app's one and tools). */
  maxConnections?: number;
}

/** Running embedded services. */
export interface EmbeddedServices {
  /** Absolute data folder. */
  dataDir: string;
  /** Connection string of the app database, e.g. `postgresql://postgres@127.0.0.1:54012/postgres`. */
  databaseUrl: string;
  /** The queue driver on the embedded queue database (undefined with `queue: false`); share it. */
  queue: QueueDriver | undefined;
  /** Closes the queue driver, the socket server and both PGlite instances (the data stays consistent). */
  stop(): Promise<void>;
}

/** Schema of the queue's tables inside the queue database. */
export const EMBEDDED_QUEUE_SCHEMA = "zixly_queue";

/**
 * Starts the embedded app database (served over TCP) and, unless `queue: false`, the embedded
 * queue. Whoever calls it owns the result and must `stop()` it after closing its clients.
 *
 * @throws when another live process holds `dataDir` (PGlite data folders are single-process).
 */
export async function startEmbeddedServices(options: EmbeddedOptions): Promise<EmbeddedServices> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);
  const cleanups: Array<() => Promise<void>> = [async () => releaseLock()];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const appDb = await PGlite.create({ dataDir: join(dataDir, "db") });
    cleanups.push(() => appDb.close());
    const server = new PGLiteSocketServer({
      db: appDb,
      host: "127.0.0.1",
      port: 0,
      maxConnections: options.maxConnections ?? 10,
    });
    await server.start();
    cleanups.push(() => server.stop());
    const databaseUrl = `postgresql://postgres@${server.getServerConn()}/postgres`;

    let queue: QueueDriver | undefined;
    if (options.queue !== false) {
      const queueDb = await PGlite.create({ dataDir: join(dataDir, "queue") });
      cleanups.push(() => queueDb.close());
      const pool = createPglitePool(queueDb, { schema: EMBEDDED_QUEUE_SCHEMA });
      cleanups.push(() => pool.end());
      await migratePostgresQueue({ pool, schema: EMBEDDED_QUEUE_SCHEMA });
      const driver = createPostgresDriver({
        pool,
        schema: EMBEDDED_QUEUE_SCHEMA,
        ...(options.queueLockMs
          ? { lockDurationMs: options.queueLockMs, stalledIntervalMs: options.queueLockMs }
          : {}),
      });
      cleanups.push(() => driver.close());
      queue = driver;
    }

    let stopped: Promise<void> | undefined;
    return {
      dataDir,
      databaseUrl,
      queue,
      stop() {
        stopped ??= stopAll();
        return stopped;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Marks `dataDir` as used by this process (`<dataDir>/zixly.pid`). A second `zixly dev` on the
 * same folder would corrupt PGlite's files, so it is refused while the holder is alive; a lock
 * left by a dead process (crash, SIGKILL) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, "zixly.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      return () => {
        try {
          if (readFileSync(file, "utf8").trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number.parseInt(readFileSync(file, "utf8"), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder))
        throw new Error(
          `${dataDir} is in use by another zixly process (pid ${holder}); stop it first, or set ZIXLY_DATA_DIR to another folder`,
        );
      if (holder === process.pid)
        throw new Error(`${dataDir} is already open in this process (stop the other pipeline first)`);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
