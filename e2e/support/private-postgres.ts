// A private, throw-away PostgreSQL cluster for tests that stop the database. The shared
// Postgres on 5432 is used by everyone else's tests and must never be stopped; this one has
// its own data directory, port and socket directory, and is removed in `dispose()`.
import { execFile } from "node:child_process";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../packages/queue/src/test-support/redis-server.js";

const run = promisify(execFile);

/** Where Debian puts the server binaries (initdb and pg_ctl are not on PATH for root). */
const PG_BIN = process.env.TEST_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PrivatePostgres {
  port: number;
  /** URL of the `postgres` database of this cluster (user `postgres`, trust auth). */
  url: string;
  /** Start (or restart) the server and wait until it accepts connections. */
  start(): Promise<void>;
  /** Stop the server (`-m fast`: sessions are terminated, as in an operator's restart). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Stop the server and delete its directory. */
  dispose(): Promise<void>;
}

/**
 * initdb refuses to run as root, so as root every server command runs as the `postgres` OS user
 * (via runuser), and the directory is handed to it.
 */
async function asServerUser(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const binary = path.join(PG_BIN, command);
  if (process.getuid?.() === 0) return run("runuser", ["-u", "postgres", "--", binary, ...args]);
  return run(binary, args);
}

/** Creates the cluster (initdb) on a free port; call `start()` to run it. */
export async function createPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), "zixly-e2e-pg-"));
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  await chmod(dir, 0o700);
  const data = path.join(dir, "data");
  await asServerUser("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  let running = false;

  const stop = async (mode: "fast" | "immediate" = "fast") => {
    if (!running) return;
    await asServerUser("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
    running = false;
  };

  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      if (running) throw new Error("private postgres already running");
      await asServerUser("pg_ctl", [
        "-D",
        data,
        "-o",
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
        "-l",
        path.join(dir, "server.log"),
        "-w",
        "-t",
        "30",
        "start",
      ]);
      running = true;
    },
    stop,
    async dispose() {
      await stop("immediate").catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
