// Shared by the observability tests: where the files are, how to read the dashboards and the
// alert rules, and whether the Prometheus binaries are available.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const repoPath = (...parts: string[]): string => path.join(repoRoot, ...parts);
export const readRepoFile = (...parts: string[]): string => readFileSync(repoPath(...parts), "utf8");
export const readYaml = <T>(...parts: string[]): T => parseYaml(readRepoFile(...parts)) as T;

export const DASHBOARD_FILES = [
  "grafana/dashboards/pipeline-overview.json",
  "grafana/dashboards/connectors-and-webhooks.json",
];
export const ALERTS_FILE = "prometheus/alerts.yml";
export const ALERT_TESTS_FILE = "prometheus/alerts.test.yml";
export const PROMETHEUS_CONFIG = "prometheus/prometheus.yml";

// ─── Dashboards ────────────────────────────────────────────────────────────────────────────

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
  legendFormat?: string;
}
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
  collapsed?: boolean;
}
export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  links?: Array<Record<string, unknown>>;
  templating?: { list: Array<{ name: string }> };
  [key: string]: unknown;
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readRepoFile(file)) as Dashboard;
}

/** Every panel of a dashboard, rows' nested panels (collapsed rows) included; rows themselves too. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Panels that query Prometheus (everything but rows and text panels). */
export function queryPanels(dashboard: Dashboard): DashboardPanel[] {
  return allPanels(dashboard).filter((p) => p.type !== "row" && p.type !== "text");
}

export interface PanelQuery {
  /** `<dashboard file name> › <panel title> › <refId>`: stable, readable test names. */
  key: string;
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

export function panelQueries(): PanelQuery[] {
  return DASHBOARD_FILES.flatMap((file) => {
    const dashboard = loadDashboard(file);
    const name = path.basename(file, ".json");
    return queryPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((t) => ({
        key: `${name} › ${panel.title} › ${t.refId}`,
        dashboard: name,
        panel: panel.title,
        refId: t.refId,
        expr: t.expr,
      })),
    );
  });
}

/**
 * Grafana's built-in interval variables, replaced the way Grafana would for a short range
 * (the test Prometheus scrapes every second). Any other `$variable` is left alone, so a
 * caller can assert that none remains.
 */
export function withGrafanaVariables(
  expr: string,
  values = { rateInterval: "1m", interval: "5s", range: "5m" },
): string {
  return expr
    .replace(/\$\{?__rate_interval\}?/g, values.rateInterval)
    .replace(/\$\{?__interval\}?/g, values.interval)
    .replace(/\$\{?__range\}?/g, values.range);
}

/**
 * Metric names a PromQL expression selects. The dashboards and alerts always write a selector
 * with braces (`name{...}`), which is what this looks for: a deliberately simple scan, not a
 * PromQL parser.
 */
export function selectedMetrics(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)) names.add(m[1]!);
  return [...names];
}

/** The metric family a series name belongs to (histogram series carry a suffix). */
export function metricFamily(name: string): string {
  return name.replace(/_(bucket|count|sum)$/, "");
}

// ─── Alert rules ───────────────────────────────────────────────────────────────────────────

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Array<AlertRule | { record: string; expr: string }> }>;
}

export function alertRules(): AlertRule[] {
  const file = readYaml<RuleFile>(ALERTS_FILE);
  return file.groups.flatMap((g) => g.rules).filter((r): r is AlertRule => "alert" in r);
}

export interface AlertUnitTests {
  rule_files: string[];
  tests: Array<{
    name?: string;
    alert_rule_test?: Array<{
      eval_time: string;
      alertname: string;
      exp_alerts?: Array<{
        exp_labels?: Record<string, string>;
        exp_annotations?: Record<string, string>;
      }> | null;
    }>;
  }>;
}

// ─── Docs ──────────────────────────────────────────────────────────────────────────────────

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces → "-". */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) anchors.add(headingAnchor(m[1]!));
  return anchors;
}

// ─── Binaries ──────────────────────────────────────────────────────────────────────────────

export function hasBinary(name: string): boolean {
  const probe = spawnSync(name, ["--version"], { encoding: "utf8" });
  return !probe.error && probe.status === 0;
}

/**
 * Whether to skip a test that needs `name` (promtool, prometheus): only when the binary is
 * missing AND we are not in CI. Under CI a missing binary is a failure, never a skip.
 * Returns the skip note, or undefined to run the test.
 */
export function missingBinaryNote(name: string): string | undefined {
  if (hasBinary(name)) return undefined;
  const hint = `${name} is not installed: run scripts/install-prometheus.sh (Debian's "prometheus" package)`;
  if (process.env.CI) throw new Error(`${hint}. CI is set, so this is a failure, not a skip.`);
  return `${hint}; skipped outside CI`;
}
