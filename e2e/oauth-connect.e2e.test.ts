import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Pipeline, startPipeline } from "./harness.js";

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ worker: false });
});
afterAll(async () => {
  await pipeline?.close();
});

describe("OAuth connect flow (Xero)", () => {
  it("redirects to the consent screen with a one-time state, then stores one connection per Xero organisation", async () => {
    const t = await pipeline.setupTenant("OAuth Co");
    const orgs = [randomUUID(), randomUUID()];
    pipeline.xero.state.tenants.splice(
      0,
      pipeline.xero.state.tenants.length,
      ...orgs.map((id, i) => ({ tenantId: id, tenantName: `Org ${i}` })),
    );

    const redirect = await fetch(`${pipeline.baseUrl}/api/connections/xero/authorize?name=Books`, {
      headers: { authorization: `Bearer ${t.apiKey}` },
      redirect: "manual",
    });
    expect(redirect.status).toBe(302);
    const consent = new URL(redirect.headers.get("location")!);
    expect(`${consent.origin}${consent.pathname}`).toBe(`${pipeline.xero.url}/identity/connect/authorize`);
    expect(consent.searchParams.get("response_type")).toBe("code");
    expect(consent.searchParams.get("scope")).toContain("offline_access");
    const redirectUri = consent.searchParams.get("redirect_uri")!;
    expect(redirectUri).toBe(`${pipeline.baseUrl}/oauth/callback/xero`);
    const state = consent.searchParams.get("state")!;
    expect(state.length).toBeGreaterThan(30);

    // The user approves at Xero, which sends the browser back with a code.
    const code = pipeline.xero.issueAuthorizationCode(redirectUri);
    const callback = await pipeline.call(
      "GET",
      `/oauth/callback/xero?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
    );
    expect(callback.status).toBe(200);
    const stored = callback.json.connections as Array<{
      provider: string;
      externalAccountId: string;
      status: string;
    }>;
    expect(stored.map((c) => c.externalAccountId).sort()).toEqual([...orgs].sort());
    expect(stored.every((c) => c.provider === "xero" && c.status === "ACTIVE")).toBe(true);
    expect(callback.text).not.toMatch(/xero-sbx-(at|rt)-/);

    const rows = await pipeline.db.prisma.connection.findMany({
      where: { tenantId: t.tenantId, provider: "xero", externalAccountId: { in: orgs } },
    });
    expect(rows).toHaveLength(2);
    const creds = JSON.parse(pipeline.secretBox.decrypt(rows[0]!.credentialsCiphertext)) as {
      accessToken: string;
      refreshToken: string;
    };
    expect(creds.accessToken).toMatch(/^xero-sbx-at-/);
    expect(creds.refreshToken).toMatch(/^xero-sbx-rt-/);
    expect(rows[0]!.credentialsCiphertext).not.toContain(creds.accessToken);

    // The state is single-use.
    const again = await pipeline.call(
      "GET",
      `/oauth/callback/xero?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
    );
    expect(again.status).toBe(400);
    expect(again.json.error?.code).toBe("invalid_state");
  });

  it("refuses unknown states, missing parameters, unconfigured providers and VIEWER keys", async () => {
    const t = await pipeline.setupTenant("Refusals");
    expect((await pipeline.call("GET", "/oauth/callback/xero?code=x&state=forged")).json.error?.code).toBe(
      "invalid_state",
    );
    expect((await pipeline.call("GET", "/oauth/callback/xero")).status).toBe(400);
    expect((await pipeline.call("GET", "/oauth/callback/xero?error=access_denied")).json.error?.code).toBe(
      "access_denied",
    );
    const asana = await pipeline.call("GET", "/api/connections/asana/authorize", {
      token: t.apiKey,
      headers: { accept: "application/json" },
    });
    expect(asana.status).toBe(404);
    const viewer = await pipeline.call("POST", "/api/keys", {
      token: t.apiKey,
      body: { name: "ro", role: "VIEWER" },
    });
    const refused = await pipeline.call("GET", "/api/connections/xero/authorize", {
      token: viewer.json.apiKey as string,
    });
    expect(refused.status).toBe(403);
  });
});
