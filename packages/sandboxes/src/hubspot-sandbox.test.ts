import { afterEach, describe, expect, it } from "vitest";
import {
  createHubspotSandbox,
  HUBSPOT_SANDBOX_DEFAULTS,
  type HubspotSandbox,
  type HubspotSandboxOptions,
} from "./hubspot-sandbox.js";

const open: HubspotSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(options?: HubspotSandboxOptions): Promise<HubspotSandbox> {
  const sandbox = await createHubspotSandbox(options);
  open.push(sandbox);
  return sandbox;
}

function call(sandbox: HubspotSandbox, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${HUBSPOT_SANDBOX_DEFAULTS.accessToken}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  return fetch(`${sandbox.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const searchByEmail = (email: string) => ({
  filterGroups: [{ filters: [{ propertyName: "email", operator: "EQ", value: email }] }],
  properties: ["email", "firstname"],
  limit: 1,
});

describe("hubspot sandbox: contacts", () => {
  it("creates a contact in HubSpot's shape and refuses a duplicate email with 409 CONFLICT", async () => {
    const hubspot = await start();
    const res = await call(hubspot, "POST", "/crm/v3/objects/contacts", {
      properties: { email: "Ana@Example.com", firstname: "Ana" },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as {
      id: string;
      properties: Record<string, string>;
      createdAt: string;
    };
    expect(created).toMatchObject({
      id: expect.stringMatching(/^\d+$/),
      properties: { email: "ana@example.com", firstname: "Ana", hs_object_id: created.id },
      archived: false,
    });
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(created.properties.createdate).toBe(created.createdAt);

    const duplicate = await call(hubspot, "POST", "/crm/v3/objects/contacts", {
      properties: { email: "ana@example.com" },
    });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.json()).toMatchObject({
      status: "error",
      category: "CONFLICT",
      message: `Contact already exists. Existing ID: ${created.id}`,
      correlationId: expect.any(String),
    });
    expect(hubspot.contacts).toHaveLength(1);
  });

  it("searches by email (case-insensitive) and returns { total, results }", async () => {
    const hubspot = await start();
    const ana = hubspot.addContact({ email: "ana@example.com", firstname: "Ana", lastname: "Lima" });
    hubspot.addContact({ email: "ben@example.com" });

    const hit = await call(
      hubspot,
      "POST",
      "/crm/v3/objects/contacts/search",
      searchByEmail("ANA@example.com"),
    );
    expect(hit.status).toBe(200);
    expect(await hit.json()).toEqual({
      total: 1,
      results: [
        {
          id: ana.id,
          properties: { email: "ana@example.com", firstname: "Ana" },
          createdAt: ana.createdAt,
          updatedAt: ana.updatedAt,
          archived: false,
        },
      ],
    });

    const miss = await call(
      hubspot,
      "POST",
      "/crm/v3/objects/contacts/search",
      searchByEmail("zoe@example.com"),
    );
    expect(await miss.json()).toEqual({ total: 0, results: [] });
  });

  it("pages search results with paging.next.after", async () => {
    const hubspot = await start();
    for (let i = 0; i < 3; i++) hubspot.addContact({ email: `c${i}@example.com` });
    const first = (await (
      await call(hubspot, "POST", "/crm/v3/objects/contacts/search", { limit: 2 })
    ).json()) as {
      total: number;
      results: unknown[];
      paging?: { next: { after: string } };
    };
    expect(first.total).toBe(3);
    expect(first.results).toHaveLength(2);
    expect(first.paging?.next.after).toBe("2");
    const second = (await (
      await call(hubspot, "POST", "/crm/v3/objects/contacts/search", {
        limit: 2,
        after: first.paging?.next.after,
      })
    ).json()) as { results: unknown[]; paging?: unknown };
    expect(second.results).toHaveLength(1);
    expect(second.paging).toBeUndefined();
  });

  it("reads a contact by id (default properties) or by email, and 404s an unknown one", async () => {
    const hubspot = await start();
    const ana = hubspot.addContact({ email: "ana@example.com", phone: "123" });
    const byId = (await (await call(hubspot, "GET", `/crm/v3/objects/contacts/${ana.id}`)).json()) as {
      properties: Record<string, unknown>;
    };
    expect(Object.keys(byId.properties).sort()).toEqual(
      ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"].sort(),
    );
    expect(byId.properties.firstname).toBeNull();

    const byEmail = await call(
      hubspot,
      "GET",
      "/crm/v3/objects/contacts/ana@example.com?idProperty=email&properties=phone",
    );
    expect(await byEmail.json()).toMatchObject({ id: ana.id, properties: { phone: "123" } });

    const missing = await call(hubspot, "GET", "/crm/v3/objects/contacts/999999");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: "error", category: "OBJECT_NOT_FOUND" });
  });

  it("updates with PATCH, clears a property with an empty string, 404s an unknown id, 409s an email clash", async () => {
    let clock = Date.UTC(2024, 0, 1);
    const hubspot = await start({ now: () => clock });
    const ana = hubspot.addContact({ email: "ana@example.com", firstname: "Ana", phone: "1" });
    hubspot.addContact({ email: "ben@example.com" });
    clock += 60_000;

    const res = await call(hubspot, "PATCH", `/crm/v3/objects/contacts/${ana.id}`, {
      properties: { lastname: "Lima", phone: "" },
    });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as { properties: Record<string, string>; updatedAt: string };
    expect(updated.properties).toMatchObject({ firstname: "Ana", lastname: "Lima" });
    expect(updated.properties.phone).toBeUndefined();
    expect(updated.updatedAt).toBe(new Date(clock).toISOString());
    expect(updated.properties.lastmodifieddate).toBe(updated.updatedAt);

    expect(
      (await call(hubspot, "PATCH", "/crm/v3/objects/contacts/424242", { properties: { a: "b" } })).status,
    ).toBe(404);
    const clash = await call(hubspot, "PATCH", `/crm/v3/objects/contacts/${ana.id}`, {
      properties: { email: "BEN@example.com" },
    });
    expect(clash.status).toBe(409);
    expect(hubspot.count("PATCH", "/crm/v3/objects/contacts/:id")).toBe(3);
  });

  it("validates emails, and property names when knownProperties is set", async () => {
    const hubspot = await start({ knownProperties: ["phone"] });
    const badEmail = await call(hubspot, "POST", "/crm/v3/objects/contacts", {
      properties: { email: "not-an-email" },
    });
    expect(badEmail.status).toBe(400);
    expect(await badEmail.json()).toMatchObject({
      category: "VALIDATION_ERROR",
      message: expect.stringContaining("INVALID_EMAIL"),
    });

    const unknown = await call(hubspot, "POST", "/crm/v3/objects/contacts", {
      properties: { email: "ana@example.com", xero_paid: "yes" },
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ message: expect.stringContaining("PROPERTY_DOESNT_EXIST") });

    const ok = await call(hubspot, "POST", "/crm/v3/objects/contacts", {
      properties: { email: "ana@example.com", phone: "1" },
    });
    expect(ok.status).toBe(201);
  });

  it("answers bad JSON with 400 VALIDATION_ERROR", async () => {
    const hubspot = await start();
    const res = await fetch(`${hubspot.url}/crm/v3/objects/contacts`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${HUBSPOT_SANDBOX_DEFAULTS.accessToken}`,
        "content-type": "application/json",
      },
      body: "{ nope",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: "error", category: "VALIDATION_ERROR" });
  });
});

describe("hubspot sandbox: authentication and failures", () => {
  it("answers a missing or unknown bearer token with 401 INVALID_AUTHENTICATION", async () => {
    const hubspot = await start();
    const none = await fetch(`${hubspot.url}/crm/v3/objects/contacts/1`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ status: "error", category: "INVALID_AUTHENTICATION" });
    const wrong = await fetch(`${hubspot.url}/crm/v3/objects/contacts/1`, {
      headers: { authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);
  });

  it("sends HubSpot's 429 body and rate-limit headers for an injected 429", async () => {
    const hubspot = await start();
    hubspot.failNext({ status: 429 });
    const res = await call(hubspot, "POST", "/crm/v3/objects/contacts/search", searchByEmail("a@b.co"));
    expect(res.status).toBe(429);
    expect(res.headers.get("x-hubspot-ratelimit-interval-milliseconds")).toBe("10000");
    expect(res.headers.get("x-hubspot-ratelimit-remaining")).toBe("0");
    expect(await res.json()).toMatchObject({
      status: "error",
      errorType: "RATE_LIMIT",
      policyName: "TEN_SECONDLY_ROLLING",
    });
  });

  it("fails every call with failAll until clearFailures", async () => {
    const hubspot = await start();
    hubspot.failAll({ status: 502 });
    expect(
      (await call(hubspot, "POST", "/crm/v3/objects/contacts", { properties: { email: "a@b.co" } })).status,
    ).toBe(502);
    expect((await call(hubspot, "GET", "/crm/v3/objects/contacts/1")).status).toBe(502);
    expect(hubspot.contacts).toHaveLength(0);
    hubspot.clearFailures();
    expect(
      (await call(hubspot, "POST", "/crm/v3/objects/contacts", { properties: { email: "a@b.co" } })).status,
    ).toBe(201);
    expect(hubspot.count("POST", "/crm/v3/objects/contacts")).toBe(2);
  });
});

describe("hubspot sandbox: deals, notes and associations", () => {
  it("serves deals with their contacts, updates and searches them", async () => {
    const hubspot = await start();
    const ana = hubspot.addContact({ email: "ana@example.com" });
    const deal = hubspot.addDeal({ dealname: "Acme", dealstage: "closedwon" }, { contactIds: [ana.id] });

    const read = await call(
      hubspot,
      "GET",
      `/crm/v3/objects/deals/${deal.id}?properties=dealname&properties=dealstage&associations=contacts`,
    );
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      id: deal.id,
      properties: { dealname: "Acme", dealstage: "closedwon" },
      associations: { contacts: { results: [{ id: ana.id, type: "deal_to_contact" }] } },
    });
    const contact = await call(hubspot, "GET", `/crm/v3/objects/contacts/${ana.id}?associations=deals`);
    expect(await contact.json()).toMatchObject({
      associations: { deals: { results: [{ id: deal.id, type: "contact_to_deal" }] } },
    });

    const patched = await call(hubspot, "PATCH", `/crm/v3/objects/deals/${deal.id}`, {
      properties: { asana_project_gid: "1200" },
    });
    expect(await patched.json()).toMatchObject({
      properties: { asana_project_gid: "1200", hs_lastmodifieddate: expect.any(String) },
    });
    const search = await call(hubspot, "POST", "/crm/v3/objects/deals/search", {
      filterGroups: [{ filters: [{ propertyName: "asana_project_gid", operator: "EQ", value: "1200" }] }],
    });
    expect(await search.json()).toMatchObject({ total: 1, results: [{ id: deal.id }] });
    expect((await call(hubspot, "GET", `/crm/v3/objects/deals/${ana.id}`)).status).toBe(404);
  });

  it("creates notes with associations; refuses a missing hs_timestamp or an unknown target", async () => {
    const hubspot = await start();
    const ana = hubspot.addContact({ email: "ana@example.com" });
    const noTimestamp = await call(hubspot, "POST", "/crm/v3/objects/notes", {
      properties: { hs_note_body: "x" },
    });
    expect(noTimestamp.status).toBe(400);
    const unknown = await call(hubspot, "POST", "/crm/v3/objects/notes", {
      properties: { hs_note_body: "x", hs_timestamp: "2026-11-20T00:00:00Z" },
      associations: [
        { to: { id: "999" }, types: [{ associationCategory: "HUBSPOT_DEFINED", associationTypeId: 214 }] },
      ],
    });
    expect(unknown.status).toBe(400);
    const created = await call(hubspot, "POST", "/crm/v3/objects/notes", {
      properties: { hs_note_body: "Paid", hs_timestamp: "2026-11-20T00:00:00Z" },
      associations: [
        { to: { id: ana.id }, types: [{ associationCategory: "HUBSPOT_DEFINED", associationTypeId: 202 }] },
      ],
    });
    expect(created.status).toBe(201);
    const note = (await created.json()) as { id: string; properties: Record<string, string> };
    expect(note.properties).toMatchObject({ hs_note_body: "Paid", hs_timestamp: "2026-11-20T00:00:00Z" });
    expect(hubspot.associatedIds("contacts", ana.id, "notes")).toEqual([note.id]);
    expect(hubspot.notes).toHaveLength(1);
  });
});
