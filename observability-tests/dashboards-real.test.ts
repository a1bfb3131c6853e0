// The dashboards and alerts against the real thing: the pipeline (receiver, outbox relay,
// worker, Postgres, Redis, vendor sandboxes) runs in this process, a real Prometheus scrapes
// the receiver's /metrics and the worker's metrics port every second with the real
// prometheus/alerts.yml loaded, and traffic goes through it: accepted webhooks whose jobs
// complete (some after vendor 429 / 5xx / network errors), a duplicate, a bad signature, an
// unknown endpoint, a malformed body, a handshake, a job that fails for good, and a
// connection that needs re-authorisation. Then every panel query must parse and return
// data, and every alert expression must parse and evaluate. A metric renamed in the code,
// or a typo in a dashboard, fails here.
import { randomUUID } from "node:crypto";
import { createLogger, createSecretBox, parseEncryptionKeys } from "@zixly/core";
import { type RunningWorker, startWorker } from "@zixly/worker";
import { createWorkflowRegistry, workflows } from "@zixly/workflows";
import { afterAll, beforeAll, describe, expect, it, type TestContext } from "vitest";
import { type Pipeline, signXero, startPipeline, xeroDelivery } from "../e2e/harness.js";
import {
  alertRules,
  metricFamily,
  missingBinaryNote,
  panelQueries,
  repoPath,
  selectedMetrics,
  withGrafanaVariables,
} from "./lib/observability.js";
import { type PrometheusServer, type QueryResponse, startPrometheus } from "./lib/prometheus-server.js";

/**
 * Panel targets that cannot have data in this test, and why. Keep this list short: produce
 * the data instead whenever the code can. Each entry must still parse, must return NO data
 * (a stale entry fails, so it gets removed once the code emits the metric), and the metric
 * it selects must be exported by a target (HELP/TYPE seen by Prometheus), so a rename is
 * still caught.
 */
const NO_DATA_IN_TEST: Record<string, string> = {
  "connectors-and-webhooks › Rate limiting (/min) › B":
    'no rate limiter in the receiver yet: nothing emits webhook_events_received_total{outcome="rate_limited"}',
  "connectors-and-webhooks › Token refreshes by outcome (/min) › A":
    "the worker does not refresh OAuth tokens yet: WorkerMetrics.recordTokenRefresh has no caller",
};

const queries = panelQueries();
const rules = alertRules();

let skipNote: string | undefined;
let pipeline: Pipeline | undefined;
let worker: RunningWorker | undefined;
let prometheus: PrometheusServer | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// A failed setup (no prometheus binary under CI, a service down) is kept and thrown by every
// test, so it counts as failed tests and not only as a failed hook.
let setupError: unknown;
beforeAll(async () => {
  try {
    skipNote = missingBinaryNote("prometheus");
    if (!skipNote) await setUp();
  } catch (err) {
    setupError = err;
  }
}, 60_000);

async function setUp() {
  // The harness's in-process worker has no metrics server, so the worker is started here,
  // on the harness's database, queue and sandboxes, with a metrics port.
  pipeline = await startPipeline({ worker: false });
  worker = await startWorker({
    prisma: pipeline.db.prisma,
    queue: pipeline.queue,
    registry: createWorkflowRegistry(workflows),
    secretBox: createSecretBox(parseEncryptionKeys(pipeline.encryptionKey)),
    log: createLogger({ name: "observability", level: process.env.E2E_LOG_LEVEL ?? "silent" }),
    concurrency: 4,
    retryMaxDelayMs: 200,
    urls: { xeroApiBaseUrl: pipeline.xero.url, hubspotApiBaseUrl: pipeline.hubspot.url },
    metricsPort: 0,
  });
  expect(worker.metricsPort).toEqual(expect.any(Number));

  prometheus = await startPrometheus({
    jobs: [
      { job_name: "zixly-receiver", targets: [new URL(pipeline.baseUrl).host] },
      { job_name: "zixly-worker", targets: [`127.0.0.1:${worker.metricsPort}`] },
    ],
    ruleFiles: [repoPath("prometheus/alerts.yml")],
  });
  await waitForTargetsUp(prometheus);

  const tenant = await pipeline.setupTenant("Observability Ltd");
  // Two waves, a few scrapes apart: every counter and histogram series exists in the first
  // scrape after wave 1 and grows in wave 2, so rate() and histogram_quantile() have values.
  await traffic(pipeline, tenant, 1);
  await sleep(2_500);
  await traffic(pipeline, tenant, 2);

  // A connection the tenant must reconnect (nothing in the apps sets NEEDS_REAUTH yet).
  const other = await pipeline.setupTenant("Reauth Ltd");
  await pipeline.db.prisma.connection.updateMany({
    where: { tenantId: other.tenantId, provider: "hubspot" },
    data: { status: "NEEDS_REAUTH" },
  });
  await sleep(2_500);
}

afterAll(async () => {
  await prometheus?.stop();
  await worker?.stop();
  await pipeline?.close();
}, 30_000);

function skipIfUnavailable(ctx: TestContext) {
  if (setupError) throw setupError;
  if (skipNote) ctx.skip(skipNote);
}

async function waitForTargetsUp(server: PrometheusServer) {
  const deadline = Date.now() + 15_000;
  let last: QueryResponse | undefined;
  while (Date.now() < deadline) {
    last = await server.query('up{job=~"zixly-receiver|zixly-worker"} == 1');
    if (Array.isArray(last.data?.result) && last.data.result.length === 2) return;
    await sleep(200);
  }
  throw new Error(
    `the receiver and the worker were not both up in Prometheus: ${JSON.stringify(last)}\n${server.output()}`,
  );
}

type Tenant = Awaited<ReturnType<Pipeline["setupTenant"]>>;

async function traffic(p: Pipeline, t: Tenant, wave: number) {
  const post = (path: string, body: string, signature: string) =>
    p.call("POST", path, {
      body,
      headers: { "content-type": "application/json", "x-xero-signature": signature },
    });
  const jobs: Array<{ id: string; status: "COMPLETED" | "FAILED" }> = [];

  // Vendor trouble the next calls run into, each retried by the queue: a HubSpot 429 (with
  // Retry-After), a HubSpot 502 and a connection reset by Xero.
  p.hubspot.failNext({ status: 429, headers: { "Retry-After": "0" } });
  p.hubspot.failNext({ status: 502 });
  p.xero.failNext({ reset: true });

  // Accepted deliveries of paid invoices: jobs that complete (one contact exists, two are created).
  for (let i = 0; i < 3; i++) {
    const email = `ap-${wave}-${i}@observability.example`;
    const invoice = p.xero.addInvoice({ Status: "PAID", Contact: { EmailAddress: email } });
    if (i === 0) p.hubspot.addContact({ email, firstname: "Ana" });
    const event = { resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId };
    const delivery = xeroDelivery(t.webhookKey, [event]);
    const res = await post(t.webhookPath, delivery.body, delivery.signature);
    expect(res.status, res.text).toBe(202);
    jobs.push({ id: (res.json.jobIds as string[])[0]!, status: "COMPLETED" });
    if (i === 0) {
      // The same event again, in a new envelope: a duplicate.
      const again = xeroDelivery(t.webhookKey, [event]);
      expect((await post(t.webhookPath, again.body, again.signature)).status).toBe(200);
    }
  }

  // A job that fails for good: the invoice does not exist in Xero (404, not retriable).
  const missing = xeroDelivery(t.webhookKey, [{ resourceId: randomUUID(), tenantId: t.xeroTenantId }]);
  const failing = await post(t.webhookPath, missing.body, missing.signature);
  expect(failing.status, failing.text).toBe(202);
  jobs.push({ id: (failing.json.jobIds as string[])[0]!, status: "FAILED" });

  // Refused deliveries: bad signature (401), unknown endpoint (404), malformed body (400),
  // and Xero's intent-to-receive handshake (200).
  const forged = xeroDelivery(t.webhookKey, [{ resourceId: randomUUID(), tenantId: t.xeroTenantId }]);
  expect((await post(t.webhookPath, forged.body, signXero("not-the-key", forged.body))).status).toBe(401);
  expect((await post(`/webhooks/${randomUUID()}`, "{}", "x")).status).toBe(404);
  const malformed = '{"events": [';
  expect((await post(t.webhookPath, malformed, signXero(t.webhookKey, malformed))).status).toBe(400);
  const handshake = JSON.stringify({
    events: [],
    firstEventSequence: 0,
    lastEventSequence: 0,
    entropy: randomUUID(),
  });
  expect((await post(t.webhookPath, handshake, signXero(t.webhookKey, handshake))).status).toBe(200);

  await Promise.all(
    jobs.map((j) =>
      p
        .waitForJob(t.apiKey, j.id, (job) => job.status === "COMPLETED" || job.status === "FAILED", 15_000)
        .then((job) => {
          expect(job.status, JSON.stringify(job.error)).toBe(j.status);
        }),
    ),
  );
}

/** Metric families some target exposes (HELP/TYPE seen by Prometheus), with or without samples. */
async function exportedFamilies(): Promise<Set<string>> {
  const res = await prometheus!.api<{ status: string; data: Array<{ metric: string }> }>(
    "/api/v1/targets/metadata",
  );
  expect(res.status).toBe("success");
  return new Set(res.data.map((m) => m.metric));
}

function vector(res: QueryResponse) {
  expect(res.status, `${res.errorType}: ${res.error}`).toBe("success");
  expect(res.data?.resultType).toBe("vector");
  return res.data!.result as Array<{ metric: Record<string, string>; value: [number, string] }>;
}

describe("Prometheus scraping the running pipeline", () => {
  it("scrapes the receiver and the worker", async (ctx) => {
    skipIfUnavailable(ctx);
    const up = vector(await prometheus!.query('up{job=~"zixly-receiver|zixly-worker"}'));
    expect(Object.fromEntries(up.map((s) => [s.metric.job, s.value[1]]))).toEqual({
      "zixly-receiver": "1",
      "zixly-worker": "1",
    });
  });

  it("loaded every alert of prometheus/alerts.yml and evaluates each without error", async (ctx) => {
    skipIfUnavailable(ctx);
    const res = await prometheus!.api<{
      status: string;
      data: {
        groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; query: string }> }>;
      };
    }>("/api/v1/rules?type=alert");
    expect(res.status).toBe("success");
    const loaded = res.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert).sort());
    for (const rule of loaded)
      expect({ name: rule.name, health: rule.health, lastError: rule.lastError ?? "" }).toEqual({
        name: rule.name,
        health: "ok",
        lastError: "",
      });
  });

  it("exposes every metric the dashboards and alerts select", async (ctx) => {
    skipIfUnavailable(ctx);
    const families = await exportedFamilies();
    const selected = new Set([...queries, ...rules].flatMap((q) => selectedMetrics(q.expr)));
    const missing = [...selected].filter((name) => name !== "up" && !families.has(metricFamily(name)));
    expect(
      missing,
      "selected by a dashboard or an alert but exported by neither the receiver nor the worker",
    ).toEqual([]);
  });
});

describe("alert expressions (prometheus/alerts.yml)", () => {
  it.for(rules.map((r) => [`${r.alert} ${JSON.stringify(r.labels ?? {})}`, r] as const))(
    "%s parses and evaluates",
    async ([, rule], ctx) => {
      skipIfUnavailable(ctx);
      vector(await prometheus!.query(rule.expr));
    },
  );
});

describe("dashboard panels", () => {
  it("the allow-list of panels without data names existing panels", () => {
    const keys = new Set(queries.map((q) => q.key));
    for (const key of Object.keys(NO_DATA_IN_TEST)) expect(keys.has(key), key).toBe(true);
  });

  it.for(queries.map((q) => [q.key, q] as const))("%s returns data", async ([key, { expr }], ctx) => {
    skipIfUnavailable(ctx);
    const query = withGrafanaVariables(expr);
    expect(query, "a template variable is left in the query").not.toMatch(/\$/);
    const series = vector(await prometheus!.query(query));
    const reason = NO_DATA_IN_TEST[key];
    if (reason) {
      expect(series, `allow-listed (${reason}) but has data now: remove it from NO_DATA_IN_TEST`).toEqual([]);
      const families = await exportedFamilies();
      for (const name of selectedMetrics(expr))
        expect(families.has(metricFamily(name)), `${name} is not exported`).toBe(true);
      return;
    }
    expect(series.length, `no data for: ${query}`).toBeGreaterThan(0);
    const values = series.map((s) => Number(s.value[1]));
    expect(
      values.some((v) => Number.isFinite(v)),
      `only NaN/Inf for: ${query} → ${JSON.stringify(series)}`,
    ).toBe(true);
  });
});
