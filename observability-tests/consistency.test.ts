// Offline checks (no Prometheus, no Grafana, no services): the dashboards are well-formed
// Grafana JSON on the provisioned datasource, every metric they and the alerts select is one
// the apps define, receiver-exported gauges are aggregated with max(), every alert carries a
// severity and a runbook that exists in docs/operations.md, and the Prometheus and Grafana
// provisioning agree with docker-compose.pipeline.yml.

import { describe, expect, it } from "vitest";
import { createReceiverMetrics } from "../apps/receiver/src/http/metrics.js";
import { createWorkerMetrics } from "../apps/worker/src/metrics.js";
import {
  ALERTS_FILE,
  alertRules,
  allPanels,
  DASHBOARD_FILES,
  loadDashboard,
  markdownAnchors,
  metricFamily,
  PROMETHEUS_CONFIG,
  panelQueries,
  queryPanels,
  readRepoFile,
  readYaml,
  selectedMetrics,
} from "./lib/observability.js";

/** Metrics Prometheus adds to every target itself. */
const SYNTHETIC = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);
/** Gauges every receiver replica reads from the same Postgres / queue: aggregate with max(). */
const SHARED_GAUGES = ["pipeline_jobs", "pipeline_queue_depth", "zixly_connections"];

// The metrics the apps define, read from their own registries (no scrape, no collect()).
const receiverRegistry = createReceiverMetrics({ prisma: {} as never, queue: {} as never }).registry;
const workerRegistry = createWorkerMetrics().registry;
const receiverNames = new Set(receiverRegistry.getMetricsAsArray().map((m) => m.name));
const workerNames = new Set(workerRegistry.getMetricsAsArray().map((m) => m.name));
const defined = new Set([...receiverNames, ...workerNames]);

const queries = panelQueries();
const rules = alertRules();
const allExprs = [
  ...queries.map((q) => ({ where: q.key, expr: q.expr })),
  ...rules.map((r) => ({
    where: `${ALERTS_FILE} › ${r.alert} ${JSON.stringify(r.labels ?? {})}`,
    expr: r.expr,
  })),
];
const docs = readRepoFile("docs/operations.md");

describe("metric names", () => {
  it.each(allExprs.map((e) => [e.where, e.expr] as const))(
    "%s selects only metrics the apps define",
    (_where, expr) => {
      const names = selectedMetrics(expr);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        expect(
          SYNTHETIC.has(name) || defined.has(metricFamily(name)),
          `${name} is not defined by the receiver or the worker`,
        ).toBe(true);
      }
    },
  );

  it.each(allExprs.map((e) => [e.where, e.expr] as const))(
    "%s selects every metric with a job matcher",
    (_where, expr) => {
      for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
        expect(m[2], `${m[1]} has no job="zixly-…" matcher`).toMatch(
          /\bjob\s*=~?\s*"zixly-(receiver|worker)/,
        );
      }
    },
  );

  it.each(allExprs.map((e) => [e.where, e.expr] as const))(
    "%s aggregates the receivers' shared gauges with max()",
    (_where, expr) => {
      for (const gauge of SHARED_GAUGES) {
        const uses = [...expr.matchAll(new RegExp(`\\b${gauge}\\{`, "g"))].length;
        const underMax = [
          ...expr.matchAll(
            new RegExp(
              `\\bmax\\s*(?:by\\s*\\([^)]*\\)\\s*)?\\(\\s*(?:(?:delta|deriv)\\(\\s*)?${gauge}\\{`,
              "g",
            ),
          ),
        ].length;
        expect(underMax, `${gauge} must be wrapped in max(…) (each receiver reports the same value)`).toBe(
          uses,
        );
      }
    },
  );

  it("every domain metric of the receiver and the worker is on a dashboard", () => {
    const onDashboards = new Set(queries.flatMap((q) => selectedMetrics(q.expr).map(metricFamily)));
    const domain = [...defined].filter((n) => !/^(process_|nodejs_)/.test(n));
    expect(domain.filter((n) => !onDashboards.has(n))).toEqual([]);
  });

  it("the receiver and the worker export the metrics the docs promise", () => {
    for (const name of [
      "http_request_duration_seconds",
      "webhook_events_received_total",
      "pipeline_jobs_queued_total",
      "pipeline_jobs",
      "pipeline_queue_depth",
      "zixly_connections",
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(receiverNames.has(name), `receiver: ${name}`).toBe(true);
    }
    for (const name of [
      "pipeline_jobs_processed_total",
      "pipeline_job_duration_seconds",
      "connector_calls_total",
      "connector_call_duration_seconds",
      "connector_token_refreshes_total",
      "pipeline_worker_busy_slots",
      "pipeline_worker_concurrency",
      "process_cpu_seconds_total",
    ]) {
      expect(workerNames.has(name), `worker: ${name}`).toBe(true);
    }
  });
});

describe.each(DASHBOARD_FILES)("%s", (file) => {
  const dashboard = loadDashboard(file);
  const panels = allPanels(dashboard);

  it("is a provisionable dashboard: uid, title, schemaVersion, no inputs or template variables to fill", () => {
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.title).toMatch(/^Zixly \/ /);
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard).not.toHaveProperty("__inputs");
    expect(dashboard).not.toHaveProperty("id");
    expect(JSON.stringify(dashboard)).not.toMatch(/\$\{DS_|\$datasource/);
  });

  it("has unique panel ids and panels that fit the 24-column grid without overlapping", () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const cell = `${i},${j}`;
          expect(cells.has(cell), `${p.title} overlaps another panel`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });

  it("queries the provisioned Prometheus datasource (uid prometheus) in every panel and target", () => {
    for (const p of queryPanels(dashboard)) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "prometheus" });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets!) {
        expect(t.datasource, `${p.title} ${t.refId}`).toEqual({ type: "prometheus", uid: "prometheus" });
        expect(t.expr.trim(), `${p.title} ${t.refId}`).not.toBe("");
      }
    }
  });

  it("links other dashboards by tag, never by id or uid", () => {
    for (const link of dashboard.links ?? []) {
      expect(link.type).toBe("dashboards");
      expect(link.url ?? "").toBe("");
    }
    expect(JSON.stringify(dashboard)).not.toMatch(/\/d\/[A-Za-z0-9_-]+/);
  });

  it("uses no template variables but Grafana's interval ones", () => {
    expect(dashboard.templating?.list ?? []).toEqual([]);
    for (const p of queryPanels(dashboard)) {
      for (const t of p.targets ?? []) {
        const vars = [...t.expr.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]);
        expect(
          vars.filter((v) => v !== "__rate_interval"),
          `${p.title} ${t.refId}`,
        ).toEqual([]);
      }
    }
  });

  it("points its description at its section of docs/operations.md", () => {
    const anchor = String(dashboard.description ?? "").match(/docs\/operations\.md#([a-z0-9-]+)/)?.[1];
    expect(anchor).toBeDefined();
    expect(markdownAnchors(docs).has(anchor!), `no heading with anchor #${anchor}`).toBe(true);
  });

  it("documents every panel in docs/operations.md", () => {
    for (const p of queryPanels(dashboard)) {
      expect(docs.includes(p.title), `"${p.title}" is not described in docs/operations.md`).toBe(true);
    }
  });
});

describe("alerts", () => {
  const anchors = markdownAnchors(docs);

  it.each(rules.map((r) => [`${r.alert} ${JSON.stringify(r.labels ?? {})}`, r] as const))(
    "%s has a severity, a summary, a description and a runbook in docs/operations.md",
    (_name, rule) => {
      expect(["critical", "warning", "info"]).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary?.trim()).toBeTruthy();
      expect(rule.annotations?.description?.trim()).toBeTruthy();
      const runbook = rule.annotations?.runbook_url ?? "";
      expect(runbook).toMatch(/^docs\/operations\.md#[a-z0-9-]+$/);
      const anchor = runbook.split("#")[1]!;
      expect(anchors.has(anchor), `docs/operations.md has no heading with anchor #${anchor}`).toBe(true);
    },
  );
});

interface ComposeFile {
  services: Record<
    string,
    { command?: string[]; volumes?: string[]; environment?: Record<string, string>; expose?: string[] }
  >;
}
interface PrometheusConfig {
  global: { scrape_interval: string; evaluation_interval: string };
  rule_files: string[];
  scrape_configs: Array<{
    job_name: string;
    metrics_path?: string;
    dns_sd_configs?: Array<{ names: string[]; type: string; port: number }>;
    static_configs?: Array<{ targets: string[] }>;
  }>;
}

describe("provisioning agrees with docker-compose.pipeline.yml", () => {
  const compose = readYaml<ComposeFile>("docker-compose.pipeline.yml");
  const prometheus = readYaml<PrometheusConfig>(PROMETHEUS_CONFIG);
  const mountOf = (service: string, source: string) =>
    (compose.services[service]?.volumes ?? [])
      .map((v) => v.split(":"))
      .find(([from]) => from === source)?.[1];

  it("Prometheus reads this folder's prometheus.yml, which loads alerts.yml", () => {
    const dir = mountOf("prometheus", "./prometheus");
    expect(dir).toBeDefined();
    expect(compose.services.prometheus?.command).toContain(`--config.file=${dir}/prometheus.yml`);
    expect(prometheus.rule_files).toEqual(["alerts.yml"]);
  });

  it.each([
    ["zixly-receiver", "receiver", () => Number(compose.services.receiver?.environment?.PORT)],
    ["zixly-worker", "worker", () => Number(compose.services.worker?.environment?.WORKER_METRICS_PORT)],
  ] as const)("job %s discovers every %s container on its metrics port", (job, service, port) => {
    const config = prometheus.scrape_configs.find((c) => c.job_name === job);
    expect(config?.metrics_path ?? "/metrics").toBe("/metrics");
    expect(config?.dns_sd_configs).toEqual([
      expect.objectContaining({ names: [service], type: "A", port: port() }),
    ]);
  });

  it("Grafana's datasource is Prometheus at http://prometheus:9090 with uid prometheus", () => {
    const file = readYaml<{ datasources: Array<Record<string, unknown>> }>(
      "grafana/provisioning/datasources/prometheus.yml",
    );
    expect(file.datasources).toEqual([
      expect.objectContaining({
        uid: "prometheus",
        type: "prometheus",
        url: "http://prometheus:9090",
        isDefault: true,
      }),
    ]);
    expect(mountOf("grafana", "./grafana/provisioning")).toBe("/etc/grafana/provisioning");
  });

  it("Grafana's dashboard provider loads the folder compose mounts grafana/dashboards at", () => {
    const file = readYaml<{ providers: Array<{ type: string; options: { path: string } }> }>(
      "grafana/provisioning/dashboards/zixly.yml",
    );
    expect(file.providers).toHaveLength(1);
    expect(file.providers[0]!.type).toBe("file");
    expect(file.providers[0]!.options.path).toBe(mountOf("grafana", "./grafana/dashboards"));
  });
});
