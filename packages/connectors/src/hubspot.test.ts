import {
  isNonRetriableError,
  NonRetriableError,
  RetryAfterError,
  retryAfterMsOf,
  serializeError,
} from "@zixly/core";
import { createHubspotSandbox, type HubspotSandbox } from "@zixly/sandboxes";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConnectorCall } from "./connector-call.js";
import { createHubspotConnector, type HubspotConnectorOptions } from "./hubspot.js";

/** Distinctive, so a leak anywhere in an error is easy to spot. */
const SECRET_TOKEN = "pat-eu1-SHOULD-NEVER-APPEAR-IN-ERRORS-93c1";

const CONTACT_ID = "/crm/v3/objects/contacts/:id";
const CONTACTS = "/crm/v3/objects/contacts";
const SEARCH = "/crm/v3/objects/contacts/search";

let sandbox: HubspotSandbox;
beforeEach(async () => {
  sandbox = await createHubspotSandbox({ validTokens: [SECRET_TOKEN] });
});
afterEach(async () => {
  await sandbox.close();
});

function connector(overrides: Partial<HubspotConnectorOptions> = {}) {
  return createHubspotConnector({ accessToken: SECRET_TOKEN, apiBaseUrl: sandbox.url, ...overrides });
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error("expected a rejection");
}

function expectNoSecret(err: Error): void {
  const everything = JSON.stringify(serializeError(err)) + String(err.stack) + JSON.stringify(err);
  expect(everything).not.toContain(SECRET_TOKEN);
  expect(err.cause).toBeUndefined();
}

describe("hubspot connector: operations through @hubspot/api-client against the sandbox", () => {
  it("finds a contact by email with the documented search request", async () => {
    const ana = sandbox.addContact({ email: "ana@example.com", firstname: "Ana", lastname: "Lima" });
    const hubspot = connector();

    await expect(hubspot.findContactByEmail("ana@example.com")).resolves.toEqual({
      id: ana.id,
      email: "ana@example.com",
      properties: { email: "ana@example.com", firstname: "Ana", lastname: "Lima" },
    });
    await expect(hubspot.findContactByEmail("nobody@example.com")).resolves.toBeNull();

    expect(sandbox.requests[0]).toMatchObject({
      method: "POST",
      path: SEARCH,
      headers: { authorization: `Bearer ${SECRET_TOKEN}` },
      body: {
        filterGroups: [{ filters: [{ propertyName: "email", operator: "EQ", value: "ana@example.com" }] }],
        limit: 1,
      },
    });
  });

  it("creates and updates contacts", async () => {
    const hubspot = connector({ apiBaseUrl: `${sandbox.url}/` });
    const created = await hubspot.createContact({ email: "ben@example.com", firstname: "Ben" });
    expect(created).toMatchObject({
      email: "ben@example.com",
      properties: { firstname: "Ben", hs_object_id: created.id },
    });

    const updated = await hubspot.updateContact(created.id, { lastname: "Okafor" });
    expect(updated).toMatchObject({ id: created.id, properties: { firstname: "Ben", lastname: "Okafor" } });
    expect(sandbox.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST ${CONTACTS}`,
      `PATCH ${CONTACTS}/${created.id}`,
    ]);
  });

  it("upsert creates the contact when none has the email", async () => {
    const result = await connector().upsertContactByEmail({
      email: "cleo@example.com",
      properties: { firstname: "Cleo" },
    });
    expect(result).toMatchObject({
      created: true,
      email: "cleo@example.com",
      properties: { firstname: "Cleo" },
    });
    expect(sandbox.contacts).toHaveLength(1);
    expect(sandbox.count("POST", SEARCH)).toBe(1);
    expect(sandbox.count("POST", CONTACTS)).toBe(1);
    expect(sandbox.count("PATCH", CONTACT_ID)).toBe(0);
  });

  it("upsert updates the existing contact with exactly one PATCH and no create", async () => {
    const existing = sandbox.addContact({ email: "dev@example.com", firstname: "Dev" });
    const result = await connector().upsertContactByEmail({
      email: "DEV@example.com",
      properties: { lastname: "Patel", xero_last_payment_amount: "99.5" },
    });
    expect(result).toMatchObject({
      created: false,
      id: existing.id,
      properties: { firstname: "Dev", lastname: "Patel", xero_last_payment_amount: "99.5" },
    });
    expect(sandbox.count("PATCH", CONTACT_ID)).toBe(1);
    expect(sandbox.count("POST", CONTACTS)).toBe(0);
    expect(sandbox.contacts).toHaveLength(1);
  });

  it("upsert without properties finds the contact and writes nothing", async () => {
    const existing = sandbox.addContact({ email: "eve@example.com" });
    const result = await connector().upsertContactByEmail({ email: "eve@example.com" });
    expect(result).toMatchObject({ created: false, id: existing.id });
    expect(sandbox.count("PATCH", CONTACT_ID)).toBe(0);
  });

  it("upsert resolves a 409 from a racing create into an update of the existing contact", async () => {
    const existing = sandbox.addContact({ email: "finn@example.com" });
    // The search index has not caught up yet: the search misses the contact another writer made.
    sandbox.failNext({ status: 200, body: { total: 0, results: [] }, route: `POST ${SEARCH}` });
    const result = await connector().upsertContactByEmail({
      email: "finn@example.com",
      properties: { firstname: "Finn" },
    });
    expect(result).toMatchObject({ created: false, id: existing.id, properties: { firstname: "Finn" } });
    expect(sandbox.count("POST", CONTACTS)).toBe(1); // the create that hit 409
    expect(sandbox.count("PATCH", CONTACT_ID)).toBe(1);
    expect(sandbox.contacts).toHaveLength(1);
  });
});

describe("hubspot connector: error mapping", () => {
  it("a duplicate create → NonRetriableError naming HubSpot's CONFLICT", async () => {
    sandbox.addContact({ email: "gus@example.com" });
    const err = await rejectionOf(connector().createContact({ email: "gus@example.com" }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toMatch(
      /^hubspot createContact failed: 409 Conflict — Contact already exists\. Existing ID: \d+ \(CONFLICT\)$/,
    );
    expectNoSecret(err);
  });

  it("an unknown contact id → NonRetriableError (404 OBJECT_NOT_FOUND)", async () => {
    const err = await rejectionOf(connector().updateContact("987654", { firstname: "X" }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe(
      "hubspot updateContact failed: 404 Not Found — resource not found (OBJECT_NOT_FOUND)",
    );
  });

  it("every call failing with 502 → plain, retryable Errors (JSON or an HTML proxy page)", async () => {
    sandbox.failAll({ status: 502 });
    const hubspot = connector();
    const json = await rejectionOf(hubspot.upsertContactByEmail({ email: "hal@example.com" }));
    expect(json.constructor).toBe(Error);
    expect(isNonRetriableError(json)).toBe(false);
    expect(json.message).toBe("hubspot findContactByEmail failed: 502 Bad Gateway — internal error");

    sandbox.clearFailures();
    sandbox.failAll({
      status: 502,
      body: "<html><body>Bad gateway</body></html>",
      headers: { "content-type": "text/html" },
    });
    const html = await rejectionOf(hubspot.createContact({ email: "hal@example.com" }));
    expect(html.constructor).toBe(Error);
    expect(html.message).toBe("hubspot createContact failed: 502 Bad Gateway — Bad gateway");
  });

  it("429 → RetryAfterError: Retry-After when sent, else HubSpot's rate-limit window", async () => {
    const hubspot = connector();
    sandbox.failNext({ status: 429, headers: { "Retry-After": "2" } });
    const withHeader = await rejectionOf(hubspot.findContactByEmail("ivy@example.com"));
    expect(withHeader).toBeInstanceOf(RetryAfterError);
    expect(retryAfterMsOf(withHeader)).toBe(2000);

    sandbox.failNext({ status: 429 }); // HubSpot's own shape: no Retry-After, a 10 s window header
    const windowed = await rejectionOf(hubspot.findContactByEmail("ivy@example.com"));
    expect(retryAfterMsOf(windowed)).toBe(10_000);
    expect(windowed.message).toBe(
      "hubspot findContactByEmail failed: 429 Too Many Requests — You have reached your ten_secondly_rolling limit. (retry after 10s)",
    );
    expectNoSecret(windowed);
  });

  it("429 with an empty JSON body (the SDK cannot parse it) still maps to RetryAfterError", async () => {
    sandbox.failNext({
      status: 429,
      body: "",
      headers: { "content-type": "application/json", "Retry-After": "3" },
    });
    const err = await rejectionOf(connector().createContact({ email: "jo@example.com" }));
    expect(err).toBeInstanceOf(RetryAfterError);
    expect(retryAfterMsOf(err)).toBe(3000);
  });

  it("a rejected token → NonRetriableError whose message, cause and stack never hold the token", async () => {
    await sandbox.close();
    sandbox = await createHubspotSandbox({ validTokens: ["another-token"] });
    const err = await rejectionOf(connector().upsertContactByEmail({ email: "kai@example.com" }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toMatch(
      /^hubspot findContactByEmail failed: 401 Unauthorized — Authentication credentials not found/,
    );
    expectNoSecret(err);
    expect(sandbox.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET_TOKEN}`);
  });

  it("an error body that echoes the token is scrubbed", async () => {
    sandbox.failNext({
      status: 400,
      body: { status: "error", message: `bad header Bearer ${SECRET_TOKEN}` },
    });
    const err = await rejectionOf(connector().createContact({ email: "lu@example.com" }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expectNoSecret(err);
  });

  it("a network error → plain, retryable Error", async () => {
    sandbox.failNext({ reset: true });
    const reset = await rejectionOf(connector().findContactByEmail("mo@example.com"));
    expect(reset.constructor).toBe(Error);
    expect(reset.message).toMatch(/^hubspot findContactByEmail failed: network error — /);
    expectNoSecret(reset);
  });

  it("rejects an empty email without calling HubSpot", async () => {
    const err = await rejectionOf(connector().upsertContactByEmail({ email: "  " }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(sandbox.requests).toHaveLength(0);
  });
});

describe("hubspot connector: onCall", () => {
  it("reports each vendor call and the upsert as a whole", async () => {
    const calls: ConnectorCall[] = [];
    const hubspot = connector({ onCall: (c) => calls.push(c) });
    sandbox.addContact({ email: "nia@example.com" });
    await hubspot.upsertContactByEmail({ email: "nia@example.com", properties: { firstname: "Nia" } });
    await rejectionOf(hubspot.updateContact("1", { firstname: "x" }));
    expect(calls.map(({ durationMs: _, ...c }) => c)).toEqual([
      { connector: "hubspot", operation: "findContactByEmail", status: "ok", httpStatus: 200 },
      { connector: "hubspot", operation: "updateContact", status: "ok", httpStatus: 200 },
      { connector: "hubspot", operation: "upsertContactByEmail", status: "ok" },
      { connector: "hubspot", operation: "updateContact", status: "error", httpStatus: 404 },
    ]);
    expect(calls.every((c) => c.durationMs >= 0)).toBe(true);
  });
});

describe("hubspot connector: deals and notes", () => {
  it("reads a contact's deals, a deal with its contacts, and updates a deal", async () => {
    const ana = sandbox.addContact({ email: "ana@example.com" });
    const deal = sandbox.addDeal(
      { dealname: "Acme", dealstage: "closedwon", amount: "900" },
      { contactIds: [ana.id] },
    );
    const hubspot = connector();

    await expect(hubspot.getContactDealIds(ana.id)).resolves.toEqual([deal.id]);
    expect(sandbox.requests[0]).toMatchObject({
      method: "GET",
      path: `${CONTACTS}/${ana.id}`,
      query: { associations: "deals" },
    });

    const read = await hubspot.getDeal(deal.id, { properties: ["asana_project_gid"] });
    expect(read).toMatchObject({
      id: deal.id,
      contactIds: [ana.id],
      properties: { dealname: "Acme", dealstage: "closedwon", amount: "900", asana_project_gid: null },
    });
    expect(sandbox.requests[1]?.path).toBe(`/crm/v3/objects/deals/${deal.id}`);

    const updated = await hubspot.updateDeal(deal.id, { asana_project_gid: "1200" });
    expect(updated).toMatchObject({ id: deal.id, properties: { asana_project_gid: "1200" } });
    expect(sandbox.requests[2]).toMatchObject({
      method: "PATCH",
      path: `/crm/v3/objects/deals/${deal.id}`,
      body: { properties: { asana_project_gid: "1200" } },
    });
  });

  it("finds a deal by a property with a deal search, null when none matches", async () => {
    sandbox.addDeal({ dealname: "Other", asana_project_gid: "1" });
    const deal = sandbox.addDeal({ dealname: "Acme", asana_project_gid: "1200" });
    const hubspot = connector();
    await expect(hubspot.findDealByProperty("asana_project_gid", "1200")).resolves.toMatchObject({
      id: deal.id,
      properties: { dealname: "Acme", asana_project_gid: "1200" },
    });
    await expect(hubspot.findDealByProperty("asana_project_gid", "404")).resolves.toBeNull();
    expect(sandbox.requests[0]).toMatchObject({
      path: "/crm/v3/objects/deals/search",
      body: {
        filterGroups: [{ filters: [{ propertyName: "asana_project_gid", operator: "EQ", value: "1200" }] }],
      },
    });
  });

  it("adds a note associated with a contact (202) and a deal (214) in one request", async () => {
    const ana = sandbox.addContact({ email: "ana@example.com" });
    const deal = sandbox.addDeal({ dealname: "Acme" }, { contactIds: [ana.id] });
    const note = await connector().addNote({
      body: "Invoice INV-1 paid",
      timestamp: "2026-11-20T00:00:00.000Z",
      contactIds: [ana.id],
      dealIds: [deal.id],
    });
    expect(note).toEqual({
      id: expect.any(String),
      body: "Invoice INV-1 paid",
      timestamp: "2026-11-20T00:00:00.000Z",
    });
    expect(sandbox.requests[0]).toMatchObject({
      method: "POST",
      path: "/crm/v3/objects/notes",
      body: {
        properties: { hs_note_body: "Invoice INV-1 paid", hs_timestamp: "2026-11-20T00:00:00.000Z" },
        associations: [
          { to: { id: ana.id }, types: [{ associationCategory: "HUBSPOT_DEFINED", associationTypeId: 202 }] },
          {
            to: { id: deal.id },
            types: [{ associationCategory: "HUBSPOT_DEFINED", associationTypeId: 214 }],
          },
        ],
      },
    });
    expect(sandbox.associatedIds("notes", note.id, "deals")).toEqual([deal.id]);
    expect(sandbox.associatedIds("contacts", ana.id, "notes")).toEqual([note.id]);
  });

  it("maps errors: an unknown deal → NonRetriableError; an empty body is refused before any call", async () => {
    const err = await rejectionOf(connector().getDeal("424242"));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toMatch(/^hubspot getDeal failed: 404 Not Found/);
    expect(await rejectionOf(connector().addNote({ body: " " }))).toBeInstanceOf(NonRetriableError);
    expect(await rejectionOf(connector().updateDeal("", {}))).toBeInstanceOf(NonRetriableError);
    expect(sandbox.requests).toHaveLength(1);

    sandbox.failNext({ status: 429, route: "POST /crm/v3/objects/notes" });
    const limited = await rejectionOf(connector().addNote({ body: "x" }));
    expect(retryAfterMsOf(limited)).toBe(10_000);
  });
});
