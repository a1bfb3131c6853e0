// The /api surface by role and credential (DESIGN.md "HTTP API" and "Auth"): keys are stored
// hashed, scoped to a tenant and a role (ADMIN, EDITOR, VIEWER); another tenant's ids answer 404,
// not 403; errors are `{ error: { code, message } }` and never echo a secret; secrets are never
// logged.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@zixly/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_URL, xeroDelivery } from "./harness.js";
import type { CallResult } from "./support/http.js";
import { STACK_ADMIN_TOKEN, type Stack, startStack } from "./support/stack.js";

type Role = "ADMIN" | "EDITOR" | "VIEWER";
const ROLES: readonly Role[] = ["ADMIN", "EDITOR", "VIEWER"];

let db: TestDatabase;
let stack: Stack;
const logLines: string[] = [];

interface TenantCtx {
  tenantId: string;
  keys: Record<Role, string>;
  keyIds: Record<Role, string>;
  xeroPath: string;
  xeroKey: string;
  endpointId: string;
}
let a: TenantCtx;
let b: TenantCtx;
/** Every API key and secret the tests create: none may appear in a listing, an error or a log. */
const secrets = new Set<string>();

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function createKey(admin: string, body: Record<string, unknown>) {
  const res = await stack.call("POST", "/api/keys", { token: admin, body });
  if (res.status === 201) secrets.add(res.json.apiKey as string);
  return res;
}

async function setupTenant(name: string): Promise<TenantCtx> {
  const { tenantId, apiKey } = await stack.createTenant(name);
  secrets.add(apiKey);
  const xeroKey = randomBytes(48).toString("base64");
  secrets.add(xeroKey);
  const ep = await stack.call("POST", "/api/endpoints", {
    token: apiKey,
    body: { source: "xero", name: "Xero", secret: xeroKey },
  });
  if (ep.status !== 201) throw new Error(`endpoint: ${ep.status} ${ep.text}`);
  const keys = { ADMIN: apiKey } as Record<Role, string>;
  const listed = await stack.call("GET", "/api/keys", { token: apiKey });
  const keyIds = { ADMIN: (listed.json.keys as Array<{ id: string }>)[0]!.id } as Record<Role, string>;
  for (const role of ["EDITOR", "VIEWER"] as const) {
    const res = await createKey(apiKey, { name: `${role.toLowerCase()} key`, role });
    if (res.status !== 201) throw new Error(`key: ${res.status} ${res.text}`);
    expect(res.json.role).toBe(role);
    keys[role] = res.json.apiKey as string;
    keyIds[role] = res.json.id as string;
  }
  return {
    tenantId,
    keys,
    keyIds,
    xeroKey,
    endpointId: ep.json.id as string,
    xeroPath: `/webhooks/${ep.json.id as string}`,
  };
}

/** A QUEUED job of the tenant (no worker runs in this file). */
async function newJob(t: TenantCtx): Promise<string> {
  const { body, signature } = xeroDelivery(t.xeroKey, [{ resourceId: randomUUID(), tenantId: randomUUID() }]);
  const res = await stack.call("POST", t.xeroPath, { body, headers: { "x-xero-signature": signature } });
  if (res.status !== 202) throw new Error(`webhook: ${res.status} ${res.text}`);
  return (res.json.jobIds as string[])[0]!;
}

const jobStatus = async (id: string) => (await db.prisma.job.findUniqueOrThrow({ where: { id } })).status;

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack({
    prisma: db.prisma,
    redisUrl: REDIS_URL,
    worker: false,
    log: { level: "debug", destination: { write: (line: string) => void logLines.push(line) } },
  });
  secrets.add(STACK_ADMIN_TOKEN);
  a = await setupTenant("Tenant A");
  b = await setupTenant("Tenant B");
});
afterAll(async () => {
  await stack?.close();
  await db?.drop();
});

function expectError(res: CallResult, status: number, code: string) {
  expect(res.status, `${res.status} ${res.text}`).toBe(status);
  expect(res.json.error).toEqual({ code, message: expect.any(String) });
}

// ── the role table ────────────────────────────────────────────────────────────────────────────

interface Prepared {
  method: string;
  path: string;
  body?: unknown;
  /** Checks the request changed nothing (for a refused one). */
  unchanged?: () => Promise<void>;
}

interface Route {
  name: string;
  allowed: readonly Role[];
  /** Status of a successful call. */
  ok: number;
  prepare(role: Role): Promise<Prepared>;
}

const countWhere = {
  endpoints: () => db.prisma.webhookEndpoint.count({ where: { tenantId: a.tenantId } }),
  connections: () => db.prisma.connection.count({ where: { tenantId: a.tenantId } }),
  keys: () => db.prisma.apiKey.count({ where: { tenantId: a.tenantId } }),
};

async function unchangedCount(count: () => Promise<number>) {
  const before = await count();
  return async () => expect(await count()).toBe(before);
}

const routes: Route[] = [
  {
    name: "POST /api/endpoints",
    allowed: ["ADMIN", "EDITOR"],
    ok: 201,
    prepare: async (role) => ({
      method: "POST",
      path: "/api/endpoints",
      body: { source: "standard", name: `by ${role}` },
      unchanged: await unchangedCount(countWhere.endpoints),
    }),
  },
  {
    name: "GET /api/endpoints",
    allowed: ROLES,
    ok: 200,
    prepare: async () => ({ method: "GET", path: "/api/endpoints" }),
  },
  {
    name: "POST /api/connections",
    allowed: ["ADMIN", "EDITOR"],
    ok: 201,
    prepare: async (role) => ({
      method: "POST",
      path: "/api/connections",
      body: {
        provider: "asana",
        name: `by ${role}`,
        externalAccountId: `ws-${role}`,
        credentials: { accessToken: `tok-${randomUUID()}` },
      },
      unchanged: await unchangedCount(countWhere.connections),
    }),
  },
  {
    name: "GET /api/connections",
    allowed: ROLES,
    ok: 200,
    prepare: async () => ({ method: "GET", path: "/api/connections" }),
  },
  {
    name: "GET /api/jobs",
    allowed: ROLES,
    ok: 200,
    prepare: async () => ({ method: "GET", path: "/api/jobs" }),
  },
  {
    name: "GET /api/jobs/:id",
    allowed: ROLES,
    ok: 200,
    prepare: async () => ({ method: "GET", path: `/api/jobs/${await newJob(a)}` }),
  },
  {
    name: "POST /api/jobs/:id/replay",
    allowed: ["ADMIN", "EDITOR"],
    ok: 202,
    prepare: async () => {
      const id = await newJob(a);
      await db.prisma.job.update({ where: { id }, data: { status: "FAILED", enqueuedAt: new Date() } });
      return {
        method: "POST",
        path: `/api/jobs/${id}/replay`,
        unchanged: async () => expect(await jobStatus(id)).toBe("FAILED"),
      };
    },
  },
  {
    name: "POST /api/jobs/:id/cancel",
    allowed: ["ADMIN", "EDITOR"],
    ok: 200,
    prepare: async () => {
      const id = await newJob(a);
      return {
        method: "POST",
        path: `/api/jobs/${id}/cancel`,
        unchanged: async () => expect(await jobStatus(id)).toBe("QUEUED"),
      };
    },
  },
  {
    name: "POST /api/keys",
    allowed: ["ADMIN"],
    ok: 201,
    prepare: async (role) => ({
      method: "POST",
      path: "/api/keys",
      body: { name: `made by ${role}`, role: "VIEWER" },
      unchanged: await unchangedCount(countWhere.keys),
    }),
  },
  {
    name: "GET /api/keys",
    allowed: ["ADMIN"],
    ok: 200,
    prepare: async () => ({ method: "GET", path: "/api/keys" }),
  },
  {
    name: "DELETE /api/keys/:id",
    allowed: ["ADMIN"],
    ok: 204,
    prepare: async () => {
      const made = await createKey(a.keys.ADMIN, { name: "to delete", role: "VIEWER" });
      const id = made.json.id as string;
      const key = made.json.apiKey as string;
      return {
        method: "DELETE",
        path: `/api/keys/${id}`,
        unchanged: async () => {
          expect((await db.prisma.apiKey.findUniqueOrThrow({ where: { id } })).revokedAt).toBeNull();
          expect((await stack.call("GET", "/api/jobs", { token: key })).status).toBe(200);
        },
      };
    },
  },
];

const cases = routes.flatMap((route) =>
  ROLES.map((role) => ({ route, role, allowed: route.allowed.includes(role) })),
);

describe("roles: allowed roles succeed, the others get 403 forbidden and change nothing", () => {
  it.each(cases.map((c) => [c.route.name, c.role, c.allowed ? "allowed" : "forbidden", c] as const))(
    "%s as %s: %s",
    async (_name, role, _verdict, c) => {
      const prepared = await c.route.prepare(role);
      const res = await stack.call(prepared.method, prepared.path, {
        token: a.keys[role],
        ...(prepared.body !== undefined ? { body: prepared.body } : {}),
      });
      if (c.allowed) {
        expect(res.status, `${res.status} ${res.text}`).toBe(c.route.ok);
      } else {
        expectError(res, 403, "forbidden");
        await prepared.unchanged?.();
      }
    },
  );

  it("allowed roles get domain errors, not 401/403, where the action does not apply", async () => {
    for (const role of ["ADMIN", "EDITOR"] as const) {
      const queued = await newJob(a);
      // Only FAILED jobs replay.
      expectError(
        await stack.call("POST", `/api/jobs/${queued}/replay`, { token: a.keys[role] }),
        409,
        "conflict",
      );
      const first = await stack.call("POST", `/api/jobs/${queued}/cancel`, { token: a.keys[role] });
      expect(first.status).toBe(200);
      expect(first.json).toEqual({ id: queued, status: "CANCELLED" });
      // A CANCELLED job cannot be cancelled again.
      expectError(
        await stack.call("POST", `/api/jobs/${queued}/cancel`, { token: a.keys[role] }),
        409,
        "conflict",
      );
      // Validation still runs after the role check.
      expectError(
        await stack.call("POST", "/api/endpoints", {
          token: a.keys[role],
          body: { source: "nope", name: "x" },
        }),
        400,
        "invalid_request",
      );
    }
    // A VIEWER is refused before validation: 403 even for a body that would be a 400.
    expectError(
      await stack.call("POST", "/api/endpoints", { token: a.keys.VIEWER, body: { source: "nope" } }),
      403,
      "forbidden",
    );
    // An already revoked key cannot be deleted twice.
    const made = await createKey(a.keys.ADMIN, { name: "twice", role: "VIEWER" });
    expect(
      (await stack.call("DELETE", `/api/keys/${made.json.id as string}`, { token: a.keys.ADMIN })).status,
    ).toBe(204);
    expectError(
      await stack.call("DELETE", `/api/keys/${made.json.id as string}`, { token: a.keys.ADMIN }),
      404,
      "not_found",
    );
  });

  it("the bootstrap token is for POST /api/tenants only, and tenant keys cannot create tenants", async () => {
    for (const role of ROLES) {
      expectError(
        await stack.call("POST", "/api/tenants", { token: a.keys[role], body: { name: "Sneaky" } }),
        401,
        "unauthenticated",
      );
    }
    expectError(await stack.call("GET", "/api/jobs", { token: STACK_ADMIN_TOKEN }), 401, "unauthenticated");
    expectError(await stack.call("POST", "/api/tenants", { body: { name: "Anon" } }), 401, "unauthenticated");
  });
});

// ── credentials ───────────────────────────────────────────────────────────────────────────────

/** Every /api route with a harmless request; ids are the tenant's own. */
async function everyRoute(): Promise<Array<{ method: string; path: string; body?: unknown }>> {
  const job = await newJob(a);
  return [
    { method: "POST", path: "/api/endpoints", body: { source: "standard", name: "x" } },
    { method: "GET", path: "/api/endpoints" },
    {
      method: "POST",
      path: "/api/connections",
      body: { provider: "asana", name: "x", externalAccountId: "ws-x", credentials: { accessToken: "t" } },
    },
    { method: "GET", path: "/api/connections" },
    { method: "GET", path: "/api/jobs" },
    { method: "GET", path: `/api/jobs/${job}` },
    { method: "POST", path: `/api/jobs/${job}/replay` },
    { method: "POST", path: `/api/jobs/${job}/cancel` },
    { method: "POST", path: "/api/keys", body: { name: "x", role: "VIEWER" } },
    { method: "GET", path: "/api/keys" },
    { method: "DELETE", path: `/api/keys/${a.keyIds.VIEWER}` },
  ];
}

async function expectUnauthenticatedEverywhere(headers: Record<string, string>, what: string) {
  const before = {
    endpoints: await countWhere.endpoints(),
    connections: await countWhere.connections(),
    keys: await countWhere.keys(),
  };
  for (const r of await everyRoute()) {
    const res = await stack.call(r.method, r.path, {
      headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
    });
    expect(res.status, `${what}: ${r.method} ${r.path} → ${res.status} ${res.text}`).toBe(401);
    expect(res.json.error).toEqual({ code: "unauthenticated", message: expect.any(String) });
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
  }
  expect({
    endpoints: await countWhere.endpoints(),
    connections: await countWhere.connections(),
    keys: await countWhere.keys(),
  }).toEqual(before);
  expect((await db.prisma.apiKey.findUniqueOrThrow({ where: { id: a.keyIds.VIEWER } })).revokedAt).toBeNull();
}

describe("credentials: no key, unknown, revoked or expired keys get 401 unauthenticated on every route", () => {
  it("no Authorization header", async () => {
    await expectUnauthenticatedEverywhere({}, "no key");
  });

  it("malformed Authorization headers", async () => {
    for (const value of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", a.keys.ADMIN, `Token ${a.keys.ADMIN}`]) {
      await expectUnauthenticatedEverywhere(
        { authorization: value },
        `authorization: ${value.slice(0, 12)}…`,
      );
    }
  });

  it("an unknown key (right format, never issued) and a key with one character changed", async () => {
    await expectUnauthenticatedEverywhere(
      { authorization: `Bearer zx_${randomBytes(32).toString("base64url")}` },
      "unknown",
    );
    const admin = a.keys.ADMIN;
    const altered = `${admin.slice(0, -1)}${admin.endsWith("A") ? "B" : "A"}`;
    await expectUnauthenticatedEverywhere({ authorization: `Bearer ${altered}` }, "altered");
  });

  it("a revoked key: works until DELETE /api/keys/:id, then 401 everywhere", async () => {
    const made = await createKey(a.keys.ADMIN, { name: "revoke me", role: "ADMIN" });
    const key = made.json.apiKey as string;
    expect((await stack.call("GET", "/api/keys", { token: key })).status).toBe(200);
    expect(
      (await stack.call("DELETE", `/api/keys/${made.json.id as string}`, { token: a.keys.ADMIN })).status,
    ).toBe(204);
    await expectUnauthenticatedEverywhere({ authorization: `Bearer ${key}` }, "revoked");
    const listed = await stack.call("GET", "/api/keys", { token: a.keys.ADMIN });
    const row = (listed.json.keys as Array<{ id: string; revokedAt: string | null }>).find(
      (k) => k.id === made.json.id,
    );
    expect(row?.revokedAt).toEqual(expect.any(String));
  });

  it("an expired key: 401 everywhere (one created already expired, one that expires while in use)", async () => {
    const past = await createKey(a.keys.ADMIN, {
      name: "expired",
      role: "ADMIN",
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    // Refusing a past expiry (400) would be fine too; accepting one must give a dead key.
    expect([201, 400]).toContain(past.status);
    if (past.status === 201) {
      await expectUnauthenticatedEverywhere(
        { authorization: `Bearer ${past.json.apiKey as string}` },
        "expired",
      );
    }

    const soon = await createKey(a.keys.ADMIN, {
      name: "expires soon",
      role: "ADMIN",
      expiresAt: new Date(Date.now() + 2_000).toISOString(),
    });
    expect(soon.status).toBe(201);
    const key = soon.json.apiKey as string;
    expect((await stack.call("GET", "/api/jobs", { token: key })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_300));
    await expectUnauthenticatedEverywhere({ authorization: `Bearer ${key}` }, "expired while in use");
  });

  it("a key of another role cannot be escalated by a body field", async () => {
    const res = await stack.call("POST", "/api/keys", {
      token: a.keys.EDITOR,
      body: { name: "escalate", role: "ADMIN", tenantId: b.tenantId },
    });
    expectError(res, 403, "forbidden");
    // And an ADMIN cannot mint a key for another tenant.
    const own = await createKey(a.keys.ADMIN, { name: "cross", role: "VIEWER", tenantId: b.tenantId });
    expect(own.status).toBe(201);
    expect(
      (await db.prisma.apiKey.findUniqueOrThrow({ where: { id: own.json.id as string } })).tenantId,
    ).toBe(a.tenantId);
  });
});

// ── key bookkeeping ───────────────────────────────────────────────────────────────────────────

describe("API keys: shown once, stored hashed, last use recorded", () => {
  it("POST /api/keys shows the key once; GET /api/keys never returns it or its hash", async () => {
    const made = await createKey(a.keys.ADMIN, { name: "shown once", role: "EDITOR" });
    expect(made.status).toBe(201);
    const key = made.json.apiKey as string;
    expect(key).toMatch(/^zx_[A-Za-z0-9_-]{20,}$/);
    expect(made.json).toMatchObject({ id: expect.any(String), name: "shown once", role: "EDITOR" });
    expect(made.json).not.toHaveProperty("keyHash");
    const stored = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: made.json.id as string } });
    expect(stored.keyHash).not.toBe(key);
    expect(stored.keyHash).not.toContain(key);

    const listed = await stack.call("GET", "/api/keys", { token: a.keys.ADMIN });
    expect(listed.status).toBe(200);
    const keys = listed.json.keys as Array<Record<string, unknown>>;
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const row of keys) {
      expect(Object.keys(row).sort()).toEqual(
        ["createdAt", "expiresAt", "id", "lastUsedAt", "name", "prefix", "revokedAt", "role"].sort(),
      );
    }
    const row = keys.find((k) => k.id === made.json.id)!;
    expect(key.startsWith(row.prefix as string)).toBe(true);
    expect((row.prefix as string).length).toBeLessThan(key.length / 2);
    for (const secret of secrets) {
      expect(listed.text.includes(secret), "a full key in the listing").toBe(false);
      expect(listed.text.includes(sha256(secret)), "a key hash in the listing").toBe(false);
    }
    expect(listed.text).not.toContain(stored.keyHash);
    // Tenant B's listing shows only B's keys.
    const listedB = await stack.call("GET", "/api/keys", { token: b.keys.ADMIN });
    const idsB = (listedB.json.keys as Array<{ id: string }>).map((k) => k.id);
    expect(idsB).not.toContain(made.json.id);
    expect(idsB).not.toContain(a.keyIds.ADMIN);
  });

  it("last_used_at is empty until the key is used, then set (GET /api/keys shows it)", async () => {
    const made = await createKey(a.keys.ADMIN, { name: "fresh", role: "VIEWER" });
    const id = made.json.id as string;
    const lastUsed = async () => {
      const listed = await stack.call("GET", "/api/keys", { token: a.keys.ADMIN });
      return (listed.json.keys as Array<{ id: string; lastUsedAt: string | null }>).find((k) => k.id === id)!
        .lastUsedAt;
    };
    expect(await lastUsed()).toBeNull();
    const before = Date.now();
    expect((await stack.call("GET", "/api/jobs", { token: made.json.apiKey as string })).status).toBe(200);
    let seen: string | null = null;
    const deadline = Date.now() + 3_000;
    while (!seen && Date.now() < deadline) {
      seen = await lastUsed();
      if (!seen) await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toEqual(expect.any(String));
    const at = new Date(seen!).getTime();
    expect(at).toBeGreaterThanOrEqual(before - 1_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1_000);
    // The bootstrap ADMIN key, used all along, shows its use too.
    const adminUsed = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: a.keyIds.ADMIN } });
    expect(adminUsed.lastUsedAt).not.toBeNull();
  });
});

// ── tenancy ───────────────────────────────────────────────────────────────────────────────────

describe("tenancy: another tenant's ids answer 404 and nothing of theirs is listed", () => {
  it("jobs: GET, replay and cancel of A's job with B's ADMIN key → 404, A's job untouched", async () => {
    const job = await newJob(a);
    for (const [method, path] of [
      ["GET", `/api/jobs/${job}`],
      ["POST", `/api/jobs/${job}/replay`],
      ["POST", `/api/jobs/${job}/cancel`],
    ] as const) {
      expectError(await stack.call(method, path, { token: b.keys.ADMIN }), 404, "not_found");
      expectError(
        await stack.call(method, path, { token: b.keys.VIEWER }),
        method === "GET" ? 404 : 403,
        method === "GET" ? "not_found" : "forbidden",
      );
    }
    expect(await jobStatus(job)).toBe("QUEUED");
    // Same answer as for an id that does not exist at all (no existence oracle).
    const missing = await stack.call("GET", `/api/jobs/${randomUUID()}`, { token: b.keys.ADMIN });
    const foreign = await stack.call("GET", `/api/jobs/${job}`, { token: b.keys.ADMIN });
    expect(foreign.json.error?.code).toBe(missing.json.error?.code);
    expect(foreign.json.error?.message).toBe(missing.json.error?.message);
    expectError(await stack.call("GET", "/api/jobs/not-a-uuid", { token: b.keys.ADMIN }), 404, "not_found");

    const listB = await stack.call("GET", "/api/jobs?limit=200", { token: b.keys.ADMIN });
    expect((listB.json.jobs as Array<{ id: string }>).map((j) => j.id)).not.toContain(job);
    const filtered = await stack.call("GET", "/api/jobs?workflow=xero-invoice-paid-to-hubspot&limit=200", {
      token: b.keys.VIEWER,
    });
    expect((filtered.json.jobs as Array<{ tenantId: string }>).every((j) => j.tenantId === b.tenantId)).toBe(
      true,
    );
  });

  it("keys: B cannot revoke A's key (404) and A's key keeps working", async () => {
    expectError(
      await stack.call("DELETE", `/api/keys/${a.keyIds.EDITOR}`, { token: b.keys.ADMIN }),
      404,
      "not_found",
    );
    expect((await stack.call("GET", "/api/jobs", { token: a.keys.EDITOR })).status).toBe(200);
  });

  it("endpoints and connections: B's listings never show A's", async () => {
    const endpointsB = await stack.call("GET", "/api/endpoints", { token: b.keys.VIEWER });
    const ids = (endpointsB.json.endpoints as Array<{ id: string }>).map((e) => e.id);
    expect(ids).toContain(b.endpointId);
    expect(ids).not.toContain(a.endpointId);
    const connA = await stack.call("POST", "/api/connections", {
      token: a.keys.ADMIN,
      body: {
        provider: "hubspot",
        name: "A hub",
        externalAccountId: "portal-a",
        credentials: { accessToken: "t" },
      },
    });
    expect(connA.status).toBe(201);
    const connectionsB = await stack.call("GET", "/api/connections", { token: b.keys.VIEWER });
    expect((connectionsB.json.connections as Array<{ id: string }>).map((c) => c.id)).not.toContain(
      connA.json.id,
    );
    // There is no per-endpoint /api route; an endpoint id under /api is simply not found.
    expectError(
      await stack.call("GET", `/api/endpoints/${a.endpointId}`, { token: b.keys.ADMIN }),
      404,
      "not_found",
    );
  });
});

// ── secrets are never echoed or logged ────────────────────────────────────────────────────────

describe("errors never echo a secret, and secrets are never logged", () => {
  it("validation errors, auth errors and parse errors do not contain the planted secret", async () => {
    const planted = `PLANTED-${randomBytes(16).toString("hex")}`;
    const plantedKey = `zx_${randomBytes(32).toString("base64url")}`;
    secrets.add(planted);
    secrets.add(plantedKey);
    const admin = a.keys.ADMIN;
    const attempts: Array<{ what: string; res: CallResult; status: number }> = [];
    const attempt = async (what: string, status: number, run: () => Promise<CallResult>) =>
      attempts.push({ what, res: await run(), status });

    await attempt("endpoint, empty name", 400, () =>
      stack.call("POST", "/api/endpoints", {
        token: admin,
        body: { source: "xero", name: "", secret: planted },
      }),
    );
    await attempt("endpoint, unknown source", 400, () =>
      stack.call("POST", "/api/endpoints", {
        token: admin,
        body: { source: planted, name: "x", secret: planted },
      }),
    );
    await attempt("endpoint, secret too long", 400, () =>
      stack.call("POST", "/api/endpoints", {
        token: admin,
        body: { source: "xero", name: "x", secret: planted.repeat(40) },
      }),
    );
    await attempt("endpoint, settings not an object", 400, () =>
      stack.call("POST", "/api/endpoints", {
        token: admin,
        body: { source: "xero", name: "x", secret: planted, settings: planted },
      }),
    );
    await attempt("connection, bad expiresAt", 400, () =>
      stack.call("POST", "/api/connections", {
        token: admin,
        body: {
          provider: "xero",
          name: "x",
          externalAccountId: "t",
          credentials: { accessToken: planted, refreshToken: planted, expiresAt: planted },
        },
      }),
    );
    await attempt("connection, unknown credential field", 400, () =>
      stack.call("POST", "/api/connections", {
        token: admin,
        body: {
          provider: "xero",
          name: "x",
          externalAccountId: "t",
          credentials: { accessToken: planted, other: planted },
        },
      }),
    );
    await attempt("connection, wrong type", 400, () =>
      stack.call("POST", "/api/connections", {
        token: admin,
        body: { provider: "xero", name: "x", externalAccountId: "t", credentials: planted },
      }),
    );
    await attempt("key, bad role", 400, () =>
      stack.call("POST", "/api/keys", { token: admin, body: { name: "x", role: planted } }),
    );
    await attempt("key, bad expiry", 400, () =>
      stack.call("POST", "/api/keys", {
        token: admin,
        body: { name: "x", role: "VIEWER", expiresAt: planted },
      }),
    );
    await attempt("malformed JSON", 400, () =>
      stack.call("POST", "/api/connections", {
        token: admin,
        body: `{"credentials": {"accessToken": "${planted}"`,
        headers: { "content-type": "application/json" },
      }),
    );
    await attempt("jobs, bad cursor", 400, () =>
      stack.call("GET", `/api/jobs?cursor=${planted}`, { token: admin }),
    );
    await attempt("jobs, bad status", 400, () =>
      stack.call("GET", `/api/jobs?status=${planted}`, { token: admin }),
    );
    await attempt("unknown key", 401, () => stack.call("GET", "/api/jobs", { token: plantedKey }));
    await attempt("wrong bootstrap token", 401, () =>
      stack.call("POST", "/api/tenants", { token: planted, body: { name: "x" } }),
    );
    await attempt("forbidden with a secret body", 403, () =>
      stack.call("POST", "/api/connections", {
        token: a.keys.VIEWER,
        body: { provider: "xero", name: "x", externalAccountId: "t", credentials: { accessToken: planted } },
      }),
    );
    // A webhook with a wrong signature: neither the endpoint's key nor the expected signature.
    const { body, signature } = xeroDelivery(a.xeroKey, [{ resourceId: planted, tenantId: "t" }]);
    await attempt("webhook, wrong signature", 401, () =>
      stack.call("POST", a.xeroPath, {
        body,
        headers: { "x-xero-signature": `${signature.slice(0, -2)}AA` },
      }),
    );

    for (const { what, res, status } of attempts) {
      expect(res.status, `${what}: ${res.text}`).toBe(status);
      expect(res.json.error, what).toEqual({ code: expect.any(String), message: expect.any(String) });
      expect(res.text.includes(planted), `${what} echoed the planted secret: ${res.text}`).toBe(false);
      expect(res.text.includes(plantedKey), `${what} echoed the key`).toBe(false);
      expect(res.text.includes(a.xeroKey), `${what} echoed the webhook key`).toBe(false);
      expect(res.text.includes(signature), `${what} echoed the expected signature`).toBe(false);
    }
  });

  it("successful answers and listings never return a given secret or credentials", async () => {
    const planted = `PLANTED-${randomBytes(16).toString("hex")}`;
    secrets.add(planted);
    const ep = await stack.call("POST", "/api/endpoints", {
      token: a.keys.EDITOR,
      body: { source: "shopify", name: "Shop", secret: planted },
    });
    expect(ep.status).toBe(201);
    expect(ep.json).not.toHaveProperty("secret");
    const conn = await stack.call("POST", "/api/connections", {
      token: a.keys.EDITOR,
      body: {
        provider: "shopify",
        name: "Shop",
        externalAccountId: "shop.myshopify.com",
        credentials: { accessToken: planted, refreshToken: `${planted}-r` },
      },
    });
    expect(conn.status).toBe(201);
    const stored = await db.prisma.connection.findUniqueOrThrow({ where: { id: conn.json.id as string } });
    expect(JSON.stringify(stored)).not.toContain(planted); // encrypted at rest
    const storedEndpoint = await db.prisma.webhookEndpoint.findUniqueOrThrow({
      where: { id: ep.json.id as string },
    });
    expect(JSON.stringify(storedEndpoint)).not.toContain(planted);
    for (const res of [
      ep,
      conn,
      await stack.call("GET", "/api/endpoints", { token: a.keys.VIEWER }),
      await stack.call("GET", "/api/connections", { token: a.keys.VIEWER }),
    ]) {
      expect(res.text).not.toContain(planted);
      expect(res.text).not.toContain("accessToken");
      expect(res.text).not.toContain("credentials");
    }
  });

  it("no API key, token, webhook key or planted secret appears in any log line of this file", async () => {
    expect(logLines.length).toBeGreaterThan(10); // the logger was capturing
    const all = logLines.join("\n");
    for (const secret of secrets) {
      expect(all.includes(secret), `a secret (${secret.slice(0, 6)}…) was logged`).toBe(false);
    }
  });
});
