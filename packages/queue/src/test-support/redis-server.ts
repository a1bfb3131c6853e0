/**
 * A private, throw-away `redis-server` child process for tests that take Redis down. Tests
 * must never stop the shared Redis other engineers' tests use; this one lives on its own
 * random port and its own temp directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A redis-server the test can crash and restart on the same port. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** Start (or restart) the server and wait until it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL the server, as in a crash, and wait for it to be gone. */
  kill(): Promise<void>;
  /** Kill the server and delete its data directory. */
  dispose(): Promise<void>;
}

/**
 * Create (not start) a private Redis. Persistence is an fsync-on-every-write AOF in a temp dir,
 * so data written before a SIGKILL survives the restart, as on a production Redis for BullMQ;
 * RDB snapshots are off.
 */
export async function createPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), "zixly-queue-redis-"));
  let child: ChildProcess | undefined;

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  };

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child) throw new Error("private redis already running");
      child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "yes",
          "--appendfsync",
          "always",
          "--maxmemory-policy",
          "noeviction",
        ],
        { stdio: "ignore" },
      );
      const deadline = Date.now() + 10_000;
      while (!(await accepts(port))) {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
        if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port}`);
        await sleep(50);
      }
    },
    kill,
    async dispose() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
