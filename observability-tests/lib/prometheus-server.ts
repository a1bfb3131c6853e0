// Runs the real `prometheus` binary for a test: a private config and TSDB in a temp dir, a
// free loopback port, and a small client for its HTTP API.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify as toYaml } from "yaml";

export interface ScrapeJob {
  job_name: string;
  targets: string[];
}

export interface PrometheusServer {
  url: string;
  output: () => string;
  query(expr: string): Promise<QueryResponse>;
  api<T>(pathAndQuery: string): Promise<T>;
  stop(): Promise<void>;
}

export interface QueryResponse {
  status: "success" | "error";
  errorType?: string;
  error?: string;
  data?: {
    resultType: "vector" | "matrix" | "scalar" | "string";
    result: Array<{ metric: Record<string, string>; value: [number, string] }> | [number, string];
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startPrometheus(options: {
  jobs: ScrapeJob[];
  ruleFiles: string[];
  scrapeInterval?: string;
  timeoutMs?: number;
}): Promise<PrometheusServer> {
  const dir = await mkdtemp(path.join(tmpdir(), "zixly-prometheus-"));
  const configFile = path.join(dir, "prometheus.yml");
  const interval = options.scrapeInterval ?? "1s";
  await writeFile(
    configFile,
    toYaml({
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: options.ruleFiles,
      scrape_configs: options.jobs.map((j) => ({
        job_name: j.job_name,
        metrics_path: "/metrics",
        static_configs: [{ targets: j.targets }],
      })),
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Never leave a Prometheus behind if the test process dies first.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  async function stop() {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  }

  async function api<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${url}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as T;
  }

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with code ${child.exitCode}:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready at ${url}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    output: () => output,
    api,
    query: (expr) => api<QueryResponse>(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    stop,
  };
}
