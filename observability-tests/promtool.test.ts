// prometheus/: the config and the rules pass promtool's checks, the alert unit tests pass,
// and every alert has unit tests that fire it and that must not fire it.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import {
  ALERT_TESTS_FILE,
  ALERTS_FILE,
  type AlertUnitTests,
  alertRules,
  missingBinaryNote,
  PROMETHEUS_CONFIG,
  readYaml,
  repoRoot,
} from "./lib/observability.js";

function promtool(...args: string[]) {
  const run = spawnSync("promtool", args, { cwd: repoRoot, encoding: "utf8", timeout: 30_000 });
  return { status: run.status, output: `${run.stdout ?? ""}${run.stderr ?? ""}`, error: run.error };
}

describe("promtool", () => {
  for (const args of [
    ["check", "config", PROMETHEUS_CONFIG],
    ["check", "rules", ALERTS_FILE],
    ["test", "rules", ALERT_TESTS_FILE],
  ]) {
    it(`promtool ${args.join(" ")}`, (ctx) => {
      const note = missingBinaryNote("promtool");
      if (note) ctx.skip(note);
      const run = promtool(...args);
      expect(run.error).toBeUndefined();
      expect(run.status, run.output).toBe(0);
      expect(run.output).toMatch(/SUCCESS/);
    });
  }
});

describe("alert unit tests (prometheus/alerts.test.yml)", () => {
  const rules = alertRules();
  const unitTests = readYaml<AlertUnitTests>(ALERT_TESTS_FILE);
  const cases = unitTests.tests.flatMap((t) => t.alert_rule_test ?? []);

  it("load prometheus/alerts.yml", () => {
    expect(unitTests.rule_files).toEqual(["alerts.yml"]);
  });

  it.each([...new Set(rules.map((r) => r.alert))])(
    "%s has a case that fires it and a case that must not",
    (alertname) => {
      const mine = cases.filter((c) => c.alertname === alertname);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `no test in ${ALERT_TESTS_FILE} expects ${alertname} to fire`,
      ).toBe(true);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `no test in ${ALERT_TESTS_FILE} expects ${alertname} to stay quiet`,
      ).toBe(true);
    },
  );

  // Alerts sharing a name (e.g. WorkerDown warning/critical) are told apart by their labels:
  // each rule must be the one that fires in some case.
  it.each(rules.map((r) => [`${r.alert} ${JSON.stringify(r.labels ?? {})}`, r] as const))(
    "rule %s fires in some test case",
    (_name, rule) => {
      const firing = cases
        .filter((c) => c.alertname === rule.alert)
        .flatMap((c) => c.exp_alerts ?? [])
        .map((a) => a.exp_labels ?? {});
      const matches = firing.some((labels) =>
        Object.entries(rule.labels ?? {}).every(([name, value]) => labels[name] === value),
      );
      expect(
        matches,
        `no exp_alerts of ${rule.alert} carries the labels ${JSON.stringify(rule.labels)}`,
      ).toBe(true);
    },
  );
});
