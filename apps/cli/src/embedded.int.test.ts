// Embedded mode (docs/local-mode.md): no DATABASE_URL, and Postgres and Redis pointed at closed
// ports, so anything that still tried to reach them would fail these tests.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  createHubspotSandbox,
  createXeroSandbox,
  HUBSPOT_SANDBOX_DEFAULTS,
  signedXeroInvoiceDelivery,
  XERO_SANDBOX_DEFAULTS,
} from "@zixly/sandboxes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo } from "./commands/demo.js";
import { startLocalPipeline } from "./commands/pipeline.js";
import { startEmbeddedServices } from "./embedded.js";
import type { CliIo } from "./io.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const CLOSED = { REDIS_URL: "redis://127.0.0.1:1", PGHOST: "127.0.0.1", PGPORT: "1" };

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, interactive: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

/** The process environment without any database or queue configuration. */
function bareEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...CLOSED, ...extra };
  for (const key of ["DATABASE_URL", "QUEUE_DRIVER", "QUEUE_DATABASE_URL", "ZIXLY_URL"]) delete env[key];
  return env;
}

async function json<T = Record<string, unknown>>(
  url: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: init.method ?? "GET",
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
}

/** A Xero webhook for `invoiceId`, signed as Xero signs it, as README's curl sends it. */
function signedXeroDelivery(invoiceId: string, webhookKey: string): RequestInit {
  const { body, headers } = signedXeroInvoiceDelivery({
    invoiceId,
    xeroTenantId: XERO_SANDBOX_DEFAULTS.tenantId,
    webhookKey,
  });
  return { method: "POST", headers, body };
}

let cwd: string;
const saved = { ...process.env };

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "zixly-embedded-"));
  // pg reads PGHOST/PGPORT for anything without an explicit host: point them nowhere.
  Object.assign(process.env, CLOSED);
  delete process.env.DATABASE_URL;
});
afterAll(async () => {
  process.env = saved;
  await rm(cwd, { recursive: true, force: true });
});

describe("embedded services", () => {
  it("keep queued messages across a restart, and refuse a second user of the data folder", {
    timeout: 60_000,
  }, async () => {
    const dataDir = join(cwd, "services");
    const first = await startEmbeddedServices({ dataDir });
    try {
      expect(first.databaseUrl).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      await expect(startEmbeddedServices({ dataDir })).rejects.toThrow(/already open in this process/);
      await first.queue!.enqueue("probe", [{ id: "probe-1", body: { hello: "world" } }]);
      expect((await first.queue!.depth("probe")).waiting).toBe(1);
    } finally {
      await first.stop();
    }
    expect(existsSync(join(dataDir, "zixly.pid"))).toBe(false);

    const second = await startEmbeddedServices({ dataDir });
    try {
      expect((await second.queue!.depth("probe")).waiting).toBe(1);
      const seen: unknown[] = [];
      const consumer = second.queue!.consume<{ hello: string }>(
        "probe",
        async (delivery) => {
          seen.push(delivery.body);
        },
        { concurrency: 1 },
      );
      await expect.poll(() => seen, { timeout: 10_000 }).toEqual([{ hello: "world" }]);
      await consumer.stop();
    } finally {
      await second.stop();
    }
  });
});

describe("zixly dev / demo without DATABASE_URL", () => {
  const dataDir = () => join(cwd, "pipeline-data");
  const secrets = {
    ZIXLY_ADMIN_TOKEN: randomBytes(16).toString("hex"),
    ZIXLY_ENCRYPTION_KEY: `k1:${randomBytes(32).toString("base64")}`,
  };
  let apiKey = "";
  let jobIds: string[] = [];
  let endpointPath = "";
  let webhookKey = "";

  it("runs the demo on embedded Postgres and queue: both jobs end COMPLETED", {
    timeout: 120_000,
  }, async () => {
    const io = capture();
    const statuses = await runDemo(
      bareEnv({
        ...secrets,
        PORT: "0",
        WORKER_METRICS_PORT: "0",
        ZIXLY_DATA_DIR: "pipeline-data",
        LOG_LEVEL: "warn",
      }),
      io,
      { exit: true, cwd },
    );
    const out = io.stdout.join("\n");
    const err = io.stderr.join("\n");
    expect(Object.values(statuses), err).toEqual(["COMPLETED", "COMPLETED"]);
    expect(out.match(/: COMPLETED/g)).toHaveLength(2);
    // The banner names what is embedded, where the data is, and how to switch.
    expect(err).toContain(`embedded PostgreSQL (PGlite), data in ${join(dataDir(), "db")}`);
    expect(err).toContain(`embedded: BullMQ on PostgreSQL (PGlite), data in ${join(dataDir(), "queue")}`);
    expect(err).toMatch(/DATABASE_URL=postgresql:\/\/… plus QUEUE_DRIVER=bullmq REDIS_URL=redis:\/\/…/);
    expect(err).toContain("docs/local-mode.md");
    expect(err).toMatch(/applied 20261121000000_init/);
    apiKey = /API key \(shown once\):\s+(\S+)/.exec(out)?.[1] ?? "";
    jobIds = [...out.matchAll(/job ([0-9a-f-]{36}): COMPLETED/g)].map((m) => m[1]!);
    endpointPath = /Xero endpoint:\s+https?:\/\/[^/\s]+(\/\S+)/.exec(out)?.[1] ?? "";
    webhookKey = /Xero webhook key:\s+(\S+)/.exec(out)?.[1] ?? "";
    expect(apiKey).toMatch(/^zx_/);
    expect(jobIds).toHaveLength(2);
    expect(endpointPath).toMatch(/^\/webhooks\//);
  });

  it("keeps jobs, steps, endpoints and connections across a restart, and runs a burst of webhooks", {
    timeout: 120_000,
  }, async () => {
    expect(jobIds, "needs the demo test").toHaveLength(2);
    const io = capture();
    const xero = await createXeroSandbox();
    const hubspot = await createHubspotSandbox();
    const pipeline = await startLocalPipeline(
      bareEnv({
        ...secrets,
        PORT: "0",
        WORKER_METRICS_PORT: "0",
        ZIXLY_DATA_DIR: dataDir(),
        LOG_LEVEL: "warn",
        XERO_API_BASE_URL: xero.url,
        HUBSPOT_API_BASE_URL: hubspot.url,
      }),
      io,
      { cwd },
    );
    try {
      expect(pipeline.embedded).toEqual({
        dataDir: dataDir(),
        databaseUrl: expect.stringMatching(/^postgresql:/),
        queue: true,
      });
      // Already migrated: nothing to apply the second time.
      expect(io.stderr.join("\n")).toMatch(/database is up to date/);
      const base = pipeline.receiver.url;
      for (const id of jobIds) {
        const { status, body } = await json<{
          status: string;
          steps: Array<{ status: string }>;
        }>(`${base}/api/jobs/${id}`, apiKey);
        expect(status).toBe(200);
        expect(body.status).toBe("COMPLETED");
        expect(body.steps.length).toBeGreaterThan(0);
        expect(body.steps.every((s) => s.status === "COMPLETED")).toBe(true);
      }
      const connections = await json<{ connections?: unknown[] } | unknown[]>(
        `${base}/api/connections`,
        apiKey,
      );
      expect(connections.status).toBe(200);
      expect(JSON.stringify(connections.body)).toContain(XERO_SANDBOX_DEFAULTS.tenantId);
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);

      // The endpoint's secret and the connections' credentials still decrypt: a burst of
      // deliveries to the demo's endpoint all complete (the worker runs 10 at once).
      const invoices = Array.from({ length: 12 }, (_, i) =>
        xero.addInvoice({ Status: i % 2 === 0 ? "PAID" : "AUTHORISED" }),
      );
      const accepted = await Promise.all(
        invoices.map(async (invoice) => {
          const res = await fetch(
            `${base}${endpointPath}`,
            signedXeroDelivery(invoice.InvoiceID, webhookKey),
          );
          expect(res.status).toBe(202);
          return ((await res.json()) as { jobIds: string[] }).jobIds;
        }),
      );
      const burst = accepted.flat();
      expect(burst).toHaveLength(invoices.length);
      await expect
        .poll(
          async () => {
            const statuses = await Promise.all(
              burst.map(
                async (id) => (await json<{ status: string }>(`${base}/api/jobs/${id}`, apiKey)).body.status,
              ),
            );
            return statuses.filter((status) => status !== "COMPLETED");
          },
          { timeout: 60_000, interval: 500 },
        )
        .toEqual([]);
      // First time, every one: a shared-session mix-up (wrong prepared statement or portal)
      // would show as failed attempts that the retries then hide.
      for (const id of burst) {
        const job = await json<{ attempts: number }>(`${base}/api/jobs/${id}`, apiKey);
        expect(job.body.attempts, `job ${id}`).toBe(1);
      }
    } finally {
      await pipeline.stop();
      await Promise.all([xero.close(), hubspot.close()]);
    }
  });
});

describe("the README run command on a machine with only Node", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it("`zixly dev` starts, completes a signed webhook's job, and exits 0 on Ctrl-C", {
    timeout: 180_000,
  }, async () => {
    const devCwd = await mkdtemp(join(cwd, "clone-"));
    // As in a fresh clone: .env.example is there, .env is not (dev writes it with fresh secrets).
    copyFileSync(join(repoRoot, ".env.example"), join(devCwd, ".env.example"));
    // Never reach for a real server from here: the example must leave them unset.
    expect(readFileSync(join(devCwd, ".env.example"), "utf8")).not.toMatch(/^(DATABASE_URL|QUEUE_DRIVER)=/m);
    const xero = await createXeroSandbox();
    const hubspot = await createHubspotSandbox();
    try {
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
      const env = bareEnv({
        PORT: "0",
        WORKER_METRICS_PORT: "0",
        LOG_LEVEL: "warn",
        XERO_API_BASE_URL: xero.url,
        HUBSPOT_API_BASE_URL: hubspot.url,
      });
      for (const key of ["ZIXLY_ADMIN_TOKEN", "ZIXLY_ENCRYPTION_KEY", "ZIXLY_DATA_DIR", "PUBLIC_BASE_URL"])
        delete env[key];
      const proc = spawn(
        process.execPath,
        ["--conditions=@zixly/source", "--import", tsx, join(repoRoot, "apps/cli/src/main.ts"), "dev"],
        { cwd: devCwd, env, stdio: ["ignore", "pipe", "pipe"] },
      );
      child = proc;
      let stderr = "";
      let stdout = "";
      proc.stdout?.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
      const running = new Promise<string>((resolve, reject) => {
        proc.stderr?.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          const url = /receiver\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
          if (url && stderr.includes("zixly dev running")) resolve(url);
        });
        void exited.then((code) => reject(new Error(`zixly dev exited (${code}):\n${stderr}\n${stdout}`)));
      });
      const base = await running;
      expect(stderr).toContain(join(devCwd, ".zixly", "data", "db"));
      expect(stderr).toMatch(/queue\s+embedded: BullMQ on PostgreSQL/);

      // The generated .env holds the admin token, as README's "Send a test webhook" uses it.
      const adminToken = /^ZIXLY_ADMIN_TOKEN=(\S+)$/m.exec(readFileSync(join(devCwd, ".env"), "utf8"))?.[1];
      expect(adminToken).toBeTruthy();
      const tenant = await json<{ apiKey: string }>(`${base}/api/tenants`, adminToken!, {
        method: "POST",
        body: { name: "Acme Ltd" },
      });
      expect(tenant.status).toBe(201);
      const key = tenant.body.apiKey;
      const webhookKey = randomBytes(32).toString("base64");
      const endpoint = await json<{ id: string }>(`${base}/api/endpoints`, key, {
        method: "POST",
        body: { source: "xero", name: "Xero", secret: webhookKey },
      });
      expect(endpoint.status).toBe(201);
      for (const connection of [
        {
          provider: "xero",
          name: "Xero sandbox",
          externalAccountId: XERO_SANDBOX_DEFAULTS.tenantId,
          credentials: { accessToken: XERO_SANDBOX_DEFAULTS.accessToken },
        },
        {
          provider: "hubspot",
          name: "HubSpot sandbox",
          externalAccountId: "demo-portal",
          credentials: { accessToken: HUBSPOT_SANDBOX_DEFAULTS.accessToken },
        },
      ]) {
        expect(
          (await json(`${base}/api/connections`, key, { method: "POST", body: connection })).status,
        ).toBe(201);
      }
      const invoice = xero.addInvoice({
        Status: "PAID",
        Contact: { EmailAddress: "accounts@acme.example", FirstName: "Ana", LastName: "Reid" },
      });
      const delivery = await fetch(
        `${base}/webhooks/${endpoint.body.id}`,
        signedXeroDelivery(invoice.InvoiceID, webhookKey),
      );
      expect(delivery.status).toBe(202);
      const { jobIds } = (await delivery.json()) as { jobIds: string[] };
      expect(jobIds).toHaveLength(1);
      await expect
        .poll(
          async () => (await json<{ status: string }>(`${base}/api/jobs/${jobIds[0]}`, key)).body.status,
          {
            timeout: 60_000,
            interval: 250,
          },
        )
        .toBe("COMPLETED");

      proc.kill("SIGINT");
      expect(await exited, stderr).toBe(0);
      expect(existsSync(join(devCwd, ".zixly", "data", "zixly.pid"))).toBe(false);
    } finally {
      await Promise.all([xero.close(), hubspot.close()]);
    }
  });
});
