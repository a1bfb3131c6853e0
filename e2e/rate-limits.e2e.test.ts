import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Pipeline, startPipeline } from "./harness.js";

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ rateLimits: { apiPerMinute: 5, webhooksPerMinute: 3 } });
});
afterAll(async () => {
  await pipeline?.close();
});

describe("rate limits and security headers", () => {
  it("limits /api per tenant with 429, Retry-After and X-RateLimit-* headers; tenants do not share a budget", async () => {
    const a = await pipeline.setupTenant("A"); // uses 3 API calls of A's 5
    const b = await pipeline.setupTenant("B");
    const ok = await pipeline.call("GET", "/api/jobs", { token: a.apiKey });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-ratelimit-limit")).toBe("5");
    expect(ok.headers.get("x-ratelimit-remaining")).toBe("1");
    await pipeline.call("GET", "/api/jobs", { token: a.apiKey });
    const limited = await pipeline.call("GET", "/api/jobs", { token: a.apiKey });
    expect(limited.status).toBe(429);
    expect(limited.json.error?.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(limited.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    expect((await pipeline.call("GET", "/api/jobs", { token: b.apiKey })).status).toBe(200);
  });

  it("limits webhook deliveries per endpoint and counts them as rate_limited", async () => {
    const t = await pipeline.setupTenant("W");
    const endpoint = await pipeline.standardEndpoint(t.apiKey);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await endpoint.send("unrouted.event", { i })).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
    const metrics = await (await fetch(`${pipeline.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/webhook_events_received_total\{source="unknown",outcome="rate_limited"\} [1-9]/);
  });

  it("sends helmet's security headers", async () => {
    const res = await pipeline.call("GET", "/health");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toBeTruthy();
    expect(res.headers.get("x-powered-by")).toBeNull();
  });
});
