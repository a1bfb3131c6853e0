import { describe, expect, it } from "vitest";
import {
  assertTenantKey,
  parseResultKey,
  resultKey,
  stepOutputName,
  TenantKeyError,
} from "./result-store.js";

const at = new Date("2025-03-09T12:00:00Z");

describe("result keys", () => {
  it("are <prefix><tenant>/<yyyy>/<mm>/<job id>/<name>, in UTC", () => {
    expect(resultKey({ prefix: "results/", tenantId: "t-1", jobId: "job-9", name: "result.json", at })).toBe(
      "results/t-1/2025/03/job-9/result.json",
    );
    expect(
      resultKey({
        prefix: "",
        tenantId: "t",
        jobId: "j",
        name: "steps/a.json",
        at: new Date("2024-12-31T23:59:59Z"),
      }),
    ).toBe("t/2024/12/j/steps/a.json");
  });

  it("refuse parts that could change the key's structure", () => {
    const ok = { prefix: "results/", tenantId: "t", jobId: "j", name: "r.json", at };
    for (const bad of [
      { tenantId: "a/b" },
      { tenantId: ".." },
      { tenantId: "" },
      { jobId: "j/../k" },
      { name: "../r.json" },
      { name: "a//b" },
      { name: ".hidden" },
      { name: "" },
      { prefix: "results" },
      { prefix: "../" },
    ]) {
      expect(() => resultKey({ ...ok, ...bad })).toThrow(TypeError);
    }
  });

  it("parse back only when well formed", () => {
    expect(parseResultKey("results/", "results/t/2025/03/j/steps/a.json")).toEqual({
      tenantId: "t",
      yyyy: "2025",
      mm: "03",
      jobId: "j",
      name: "steps/a.json",
    });
    expect(parseResultKey("results/", "other/t/2025/03/j/r.json")).toBeUndefined();
    expect(parseResultKey("results/", "results/t/2025/13/j/r.json")).toBeUndefined();
    expect(parseResultKey("results/", "results/t/2025/03/j")).toBeUndefined();
  });

  it("belong to their tenant only: structure, not a string prefix", () => {
    const key = "results/t1/2025/03/j/r.json";
    expect(() => assertTenantKey("results/", "t1", key)).not.toThrow();
    expect(() => assertTenantKey("results/", "t2", key)).toThrow(TenantKeyError);
    // "t1" is a prefix of "t10" as a string; the key is t10's, not t1's.
    expect(() => assertTenantKey("results/", "t1", "results/t10/2025/03/j/r.json")).toThrow(TenantKeyError);
    expect(() => assertTenantKey("results/", "t1", "results/t1/2025/03/j/../../../t2/x.json")).toThrow(
      TenantKeyError,
    );
    expect(() => assertTenantKey("results/", "t1", "results/t1/../t2/2025/03/j/r.json")).toThrow(
      TenantKeyError,
    );
    expect(() => assertTenantKey("results/", "t1", "t1/2025/03/j/r.json")).toThrow(TenantKeyError);
  });

  it("name step outputs safely and without collisions", () => {
    expect(stepOutputName("fetch-invoice")).toBe("steps/fetch-invoice.json");
    const a = stepOutputName("find contact/2");
    const b = stepOutputName("find_contact_2");
    expect(a).toMatch(/^steps\/find_contact_2-[0-9a-f]{12}\.json$/);
    expect(a).not.toBe(b);
    expect(() =>
      resultKey({ prefix: "", tenantId: "t", jobId: "j", name: stepOutputName("../x"), at }),
    ).not.toThrow();
  });
});
