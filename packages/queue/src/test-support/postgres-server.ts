/**
 * A private, throw-away PostgreSQL cluster for tests that take Postgres down. Tests must never
 * stop the shared server other engineers' tests use (127.0.0.1:5432); this one has its own
 * data directory in a temp folder and its own random port, and every `pg_ctl` call names that
 * directory. As root it runs as the `postgres` user (initdb refuses root).
 */
import { execFile } from "node:child_process";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./redis-server.js";

const run = promisify(execFile);

/** Where Debian's PostgreSQL binaries are (override with `PG_BIN_DIR`). */
const PG_BIN_DIR = process.env.PG_BIN_DIR ?? "/usr/lib/postgresql/15/bin";

/** A cluster the test can crash and restart on the same port, data kept. */
export interface PrivatePostgres {
  port: number;
  /** URL of its `postgres` database (superuser `postgres`, trust auth on 127.0.0.1). */
  url: string;
  /** Start (or restart) the server and wait until it accepts connections. */
  start(): Promise<void>;
  /** Stop it like a crash (`pg_ctl stop -m immediate`: no checkpoint, recovery on restart). */
  kill(): Promise<void>;
  /** Stop it and delete its data directory. */
  dispose(): Promise<void>;
}

async function asPostgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Create (`initdb`, a few seconds) but do not start a private cluster. */
export async function createPrivatePostgres(): Promise<PrivatePostgres> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "zixly-queue-pg-"));
  const data = path.join(dir, "data");
  const owner = await asPostgresUser();
  if (owner) await chown(dir, owner.uid, owner.gid);
  const pgCommand = (binary: string, args: string[]) => {
    const file = path.join(PG_BIN_DIR, binary);
    return owner
      ? run("runuser", ["-u", "postgres", "--", file, ...args], { cwd: dir })
      : run(file, args, { cwd: dir });
  };
  await pgCommand("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  let running = false;

  const kill = async (): Promise<void> => {
    if (!running) return;
    running = false;
    await pgCommand("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
  };

  return {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      if (running) throw new Error("private postgres already running");
      const serverOptions = [
        `-p ${port}`,
        `-k ${dir}`,
        "-c listen_addresses=127.0.0.1",
        "-c fsync=off",
        "-c max_connections=60",
      ].join(" ");
      await pgCommand("pg_ctl", [
        "-D",
        data,
        "-o",
        serverOptions,
        "-l",
        path.join(dir, "server.log"),
        "-w",
        "-t",
        "30",
        "start",
      ]);
      running = true;
    },
    kill,
    async dispose() {
      await kill().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
