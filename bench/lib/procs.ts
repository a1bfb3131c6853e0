// The real receiver and worker entry points as child processes, plus /proc readings of any
// process (resident memory, CPU time) for the footprint and "what saturates" figures.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep, waitFor } from "./util.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** How app processes are started: from the built `dist/` as deployed (default), or the TypeScript sources. */
export const APP_MODE = process.env.BENCH_APP_MODE === "source" ? "source" : "dist";

/**
 * How to start an app. BENCH_RECEIVER_ENTRY / BENCH_WORKER_ENTRY replace its entry file, to A/B a
 * proposed change (a patched copy of main.ts) against the real one without editing the app.
 */
export function appCommand(app: "receiver" | "worker"): string[] {
  const entry = process.env[`BENCH_${app.toUpperCase()}_ENTRY`];
  return APP_MODE === "dist"
    ? [entry ?? `apps/${app}/dist/main.js`]
    : ["--conditions=@zixly/source", "--import", "tsx", entry ?? `apps/${app}/src/main.ts`];
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || !address) throw new Error("no free port");
  return address.port;
}

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last 64 KB the process printed. */
  output(): string;
  /** Resolves once the process exited and its output was read. */
  closed: Promise<void>;
  /** Largest RSS seen since the last `resetPeak()`, in MB. */
  peakRssMb(): number;
  resetPeak(): void;
  stop(): Promise<void>;
}

/** Spawns `node <args>` with `env`, logs to `logFile`, and samples its RSS every 250 ms. */
export function spawnNode(name: string, args: string[], env: Record<string, string>, logFile: string): Proc {
  const out = createWriteStream(logFile, { flags: "a" });
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_FLAGS?.split(" ") ?? []), ...args].filter(Boolean),
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let tail = "";
  for (const stream of [child.stdout, child.stderr]) {
    stream?.pipe(out);
    stream?.on("data", (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-65_536);
    });
  }
  const pid = child.pid ?? -1;
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb(pid));
  }, 250);
  sampler.unref();
  return {
    name,
    pid,
    child,
    output: () => tail,
    closed: exited,
    peakRssMb: () => Math.max(peak, rssMb(pid)),
    resetPeak: () => {
      peak = 0;
    },
    async stop() {
      clearInterval(sampler);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killed = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
      if (killed) {
        child.kill("SIGKILL");
        await exited;
      }
      out.end();
    },
  };
}

/** Waits until `url` answers 200 (or the process exits, which is an error). */
export async function waitHealthy(proc: Proc, url: string, logFile: string): Promise<void> {
  await waitFor(
    `${proc.name} at ${url}`,
    async () => {
      if (proc.child.exitCode !== null) {
        throw new Error(`${proc.name} exited with ${proc.child.exitCode}; see ${logFile}`);
      }
      try {
        return (await fetch(url)).status === 200;
      } catch {
        return false;
      }
    },
    60_000,
    100,
  );
}

/** Resident set size of `pid` in MB (0 once it is gone). */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const TICKS_PER_SECOND = 100;

/** CPU seconds `pid` has used so far (user + system), 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Machine-wide CPU: busy and total jiffies since boot. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((s, v) => s + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export const logPath = (dir: string, name: string) => join(dir, `${name}.log`);

/**
 * One of the bench's own servers (`bench/servers/*.ts`, through tsx) on a free port, logging to
 * `<logDir>/<name>.log`; resolves once `healthPath` answers.
 */
export async function startBenchServer(
  logDir: string,
  name: string,
  script: string,
  env: Record<string, string>,
  healthPath = "/health",
): Promise<{ proc: Proc; port: number; url: string }> {
  const port = await freePort();
  const file = logPath(logDir, name);
  const proc = spawnNode(
    name,
    ["--import", "tsx", `bench/servers/${script}`],
    { ...env, PORT: String(port) },
    file,
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(proc, `${url}${healthPath}`, file);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, port, url };
}
