import { afterEach, describe, expect, it } from "vitest";
import {
  createXeroSandbox,
  XERO_SANDBOX_DEFAULTS,
  type XeroSandbox,
  type XeroSandboxOptions,
} from "./xero-sandbox.js";

const open: XeroSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(options?: XeroSandboxOptions): Promise<XeroSandbox> {
  const sandbox = await createXeroSandbox(options);
  open.push(sandbox);
  return sandbox;
}

const apiHeaders = {
  authorization: `Bearer ${XERO_SANDBOX_DEFAULTS.accessToken}`,
  "xero-tenant-id": XERO_SANDBOX_DEFAULTS.tenantId,
  accept: "application/json",
};

function tokenRequest(url: string, form: Record<string, string>, basic = true): Promise<Response> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (basic) {
    headers.authorization = `Basic ${Buffer.from(`${XERO_SANDBOX_DEFAULTS.clientId}:${XERO_SANDBOX_DEFAULTS.clientSecret}`).toString("base64")}`;
  }
  return fetch(`${url}/connect/token`, {
    method: "POST",
    headers,
    body: new URLSearchParams(form).toString(),
  });
}

describe("xero sandbox: invoices and contacts", () => {
  it("serves an invoice in Xero's PascalCase envelope with /Date(...)/ dates", async () => {
    const xero = await start();
    const stored = xero.addInvoice({
      Status: "PAID",
      Total: 250,
      Reference: "PO-7",
      CurrencyCode: "NZD",
      FullyPaidOnDate: "2024-06-15",
      Contact: { Name: "Ana Lima", FirstName: "Ana", LastName: "Lima", EmailAddress: "ana@example.com" },
    });

    const res = await fetch(`${xero.url}/api.xro/2.0/Invoices/${stored.InvoiceID}`, { headers: apiHeaders });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as Record<string, unknown> & { Invoices: Record<string, unknown>[] };
    expect(body).toMatchObject({ Status: "OK", ProviderName: expect.any(String) });
    expect(body.Id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.DateTimeUTC).toMatch(/^\/Date\(\d+\)\/$/);
    expect(body.Invoices).toHaveLength(1);
    expect(body.Invoices[0]).toMatchObject({
      Type: "ACCREC",
      InvoiceID: stored.InvoiceID,
      InvoiceNumber: "INV-0001",
      Reference: "PO-7",
      Status: "PAID",
      Total: 250,
      AmountPaid: 250,
      AmountDue: 0,
      CurrencyCode: "NZD",
      FullyPaidOnDate: `/Date(${Date.UTC(2024, 5, 15)}+0000)/`,
      Contact: { ContactID: stored.Contact.ContactID, Name: "Ana Lima", EmailAddress: "ana@example.com" },
    });
    expect(body.Invoices[0]?.Date).toMatch(/^\/Date\(\d+\+0000\)\/$/);
    expect(body.Invoices[0]?.Payments).toHaveLength(1);
    expect(body.Invoices[0]?.LineItems).toHaveLength(1);
  });

  it("finds an invoice by InvoiceNumber too, as Xero does", async () => {
    const xero = await start();
    const stored = xero.addInvoice({ InvoiceNumber: "INV-42" });
    const res = await fetch(`${xero.url}/api.xro/2.0/Invoices/INV-42`, { headers: apiHeaders });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { Invoices: { InvoiceID: string }[] }).Invoices[0]?.InvoiceID).toBe(
      stored.InvoiceID,
    );
  });

  it("answers an unknown invoice with Xero's 404 text", async () => {
    const xero = await start();
    const res = await fetch(`${xero.url}/api.xro/2.0/Invoices/00000000-0000-0000-0000-000000000000`, {
      headers: apiHeaders,
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("The resource you're looking for cannot be found");
  });

  it("serves contacts, including those created with an invoice", async () => {
    const xero = await start();
    const invoice = xero.addInvoice({ Contact: { Name: "Acme Ltd", EmailAddress: "ap@acme.test" } });
    const res = await fetch(`${xero.url}/api.xro/2.0/Contacts/${invoice.Contact.ContactID}`, {
      headers: apiHeaders,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { Contacts: Record<string, unknown>[] };
    expect(body.Contacts[0]).toMatchObject({
      Name: "Acme Ltd",
      EmailAddress: "ap@acme.test",
      ContactStatus: "ACTIVE",
    });
  });
});

describe("xero sandbox: authentication", () => {
  it("answers a missing or unknown bearer token with Xero's 401 problem body", async () => {
    const xero = await start();
    const invoice = xero.addInvoice();
    for (const authorization of [undefined, "Bearer not-a-token"]) {
      const headers: Record<string, string> = { "xero-tenant-id": XERO_SANDBOX_DEFAULTS.tenantId };
      if (authorization) headers.authorization = authorization;
      const res = await fetch(`${xero.url}/api.xro/2.0/Invoices/${invoice.InvoiceID}`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        Type: null,
        Title: "Unauthorized",
        Status: 401,
        Detail: "AuthenticationUnsuccessful",
      });
    }
  });

  it("answers a missing or unconnected xero-tenant-id with 403", async () => {
    const xero = await start();
    const invoice = xero.addInvoice();
    for (const tenant of [undefined, "11111111-1111-1111-1111-111111111111"]) {
      const headers: Record<string, string> = { authorization: apiHeaders.authorization };
      if (tenant) headers["xero-tenant-id"] = tenant;
      const res = await fetch(`${xero.url}/api.xro/2.0/Invoices/${invoice.InvoiceID}`, { headers });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        Title: "Forbidden",
        Status: 403,
        Detail: "AuthenticationUnsuccessful",
      });
    }
  });

  it("lists connections for a valid token", async () => {
    const xero = await start();
    const res = await fetch(`${xero.url}/connections`, {
      headers: { authorization: apiHeaders.authorization },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      expect.objectContaining({
        tenantId: XERO_SANDBOX_DEFAULTS.tenantId,
        tenantType: "ORGANISATION",
        tenantName: XERO_SANDBOX_DEFAULTS.tenantName,
      }),
    ]);
    expect((await fetch(`${xero.url}/connections`)).status).toBe(401);
  });
});

describe("xero sandbox: token endpoint", () => {
  it("exchanges a refresh token once: new tokens work, the used refresh token is invalid_grant", async () => {
    const xero = await start();
    const first = await tokenRequest(xero.url, {
      grant_type: "refresh_token",
      refresh_token: XERO_SANDBOX_DEFAULTS.refreshToken,
    });
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("no-store");
    const tokens = (await first.json()) as Record<string, unknown>;
    expect(tokens).toMatchObject({
      token_type: "Bearer",
      expires_in: 1800,
      scope: expect.stringContaining("offline_access"),
    });
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.refresh_token).not.toBe(XERO_SANDBOX_DEFAULTS.refreshToken);

    const invoice = xero.addInvoice();
    const withNewToken = await fetch(`${xero.url}/api.xro/2.0/Invoices/${invoice.InvoiceID}`, {
      headers: { ...apiHeaders, authorization: `Bearer ${String(tokens.access_token)}` },
    });
    expect(withNewToken.status).toBe(200);

    const reuse = await tokenRequest(xero.url, {
      grant_type: "refresh_token",
      refresh_token: XERO_SANDBOX_DEFAULTS.refreshToken,
    });
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toEqual({ error: "invalid_grant" });

    const next = await tokenRequest(xero.url, {
      grant_type: "refresh_token",
      refresh_token: String(tokens.refresh_token),
    });
    expect(next.status).toBe(200);
  });

  it("rejects unknown refresh tokens, bad clients and other grants", async () => {
    const xero = await start();
    const unknown = await tokenRequest(xero.url, { grant_type: "refresh_token", refresh_token: "nope" });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ error: "invalid_grant" });

    const noClient = await tokenRequest(
      xero.url,
      { grant_type: "refresh_token", refresh_token: XERO_SANDBOX_DEFAULTS.refreshToken },
      false,
    );
    expect(noClient.status).toBe(400);
    expect(await noClient.json()).toEqual({ error: "invalid_client" });

    const otherGrant = await tokenRequest(xero.url, { grant_type: "client_credentials" });
    expect(otherGrant.status).toBe(400);
    expect(await otherGrant.json()).toEqual({ error: "unsupported_grant_type" });

    // A failed attempt does not burn the refresh token.
    const inBody = await tokenRequest(
      xero.url,
      {
        grant_type: "refresh_token",
        refresh_token: XERO_SANDBOX_DEFAULTS.refreshToken,
        client_id: XERO_SANDBOX_DEFAULTS.clientId,
        client_secret: XERO_SANDBOX_DEFAULTS.clientSecret,
      },
      false,
    );
    expect(inBody.status).toBe(200);
  });

  it("expires issued access tokens after expires_in", async () => {
    let clock = Date.UTC(2024, 0, 1, 12, 0, 0);
    const xero = await start({ now: () => clock, accessTokenTtlSeconds: 60 });
    const invoice = xero.addInvoice();
    const res = await tokenRequest(xero.url, {
      grant_type: "refresh_token",
      refresh_token: XERO_SANDBOX_DEFAULTS.refreshToken,
    });
    const { access_token } = (await res.json()) as { access_token: string };
    const get = () =>
      fetch(`${xero.url}/api.xro/2.0/Invoices/${invoice.InvoiceID}`, {
        headers: { ...apiHeaders, authorization: `Bearer ${access_token}` },
      });
    expect((await get()).status).toBe(200);
    clock += 61_000;
    const expired = await get();
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { Detail: string }).Detail).toBe(
      "TokenExpired: token expired at 01/01/2024 12:01:00",
    );
  });
});

describe("xero sandbox: failure injection and the request log", () => {
  it("fails the next N matching requests with Xero's 429 headers, then recovers", async () => {
    const xero = await start();
    const invoice = xero.addInvoice();
    xero.failNext({ status: 429, times: 2, route: "GET /api.xro/2.0/Invoices/:id" });
    const url = `${xero.url}/api.xro/2.0/Invoices/${invoice.InvoiceID}`;

    const connections = await fetch(`${xero.url}/connections`, { headers: apiHeaders });
    expect(connections.status).toBe(200); // other routes are untouched

    const first = await fetch(url, { headers: apiHeaders });
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("60");
    expect(first.headers.get("x-rate-limit-problem")).toBe("minute");
    expect((await fetch(url, { headers: apiHeaders })).status).toBe(429);
    expect((await fetch(url, { headers: apiHeaders })).status).toBe(200);
  });

  it("fails every request until cleared, with the given body and headers", async () => {
    const xero = await start();
    const invoice = xero.addInvoice();
    xero.failAll({ status: 503, headers: { "Retry-After": "5" }, body: "maintenance" });
    const url = `${xero.url}/api.xro/2.0/Invoices/${invoice.InvoiceID}`;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, { headers: apiHeaders });
      expect(res.status).toBe(503);
      expect(await res.text()).toBe("maintenance");
    }
    xero.clearFailures();
    expect((await fetch(url, { headers: apiHeaders })).status).toBe(200);
  });

  it("drops the connection for a reset failure", async () => {
    const xero = await start();
    xero.failNext({ reset: true });
    await expect(fetch(`${xero.url}/connections`, { headers: apiHeaders })).rejects.toThrow();
    expect((await fetch(`${xero.url}/connections`, { headers: apiHeaders })).status).toBe(200);
  });

  it("logs method, path, query, headers and parsed body of every request", async () => {
    const xero = await start();
    const invoice = xero.addInvoice();
    await fetch(`${xero.url}/api.xro/2.0/Invoices/${invoice.InvoiceID}?unitdp=4`, { headers: apiHeaders });
    await tokenRequest(xero.url, { grant_type: "refresh_token", refresh_token: "x" });

    expect(xero.requests).toHaveLength(2);
    expect(xero.requests[0]).toMatchObject({
      method: "GET",
      path: `/api.xro/2.0/Invoices/${invoice.InvoiceID}`,
      query: { unitdp: "4" },
      headers: { authorization: apiHeaders.authorization, "xero-tenant-id": XERO_SANDBOX_DEFAULTS.tenantId },
    });
    expect(xero.requests[0]?.time).toBeInstanceOf(Date);
    expect(xero.requests[1]).toMatchObject({
      method: "POST",
      path: "/connect/token",
      body: { grant_type: "refresh_token", refresh_token: "x" },
    });
    expect(xero.count("GET", "/api.xro/2.0/Invoices/:id")).toBe(1);
    expect(xero.count("POST", "/connect/token")).toBe(1);
  });

  it("closes at once even with a keep-alive connection open", async () => {
    const xero = await createXeroSandbox();
    await fetch(`${xero.url}/connections`, { headers: apiHeaders, keepalive: true });
    const started = Date.now();
    await xero.close();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe("xero sandbox: writes (contacts, invoices) and where filters", () => {
  const write = (url: string, method: "PUT" | "POST", path: string, body: unknown, key?: string) =>
    fetch(`${url}/api.xro/2.0/${path}`, {
      method,
      headers: {
        ...apiHeaders,
        "content-type": "application/json",
        ...(key ? { "idempotency-key": key } : {}),
      },
      body: JSON.stringify(body),
    });

  it("creates a contact with PUT, refuses a duplicate name, lists contacts by where=EmailAddress", async () => {
    const xero = await start();
    const created = await write(xero.url, "PUT", "Contacts", {
      Contacts: [{ Name: "Ana", EmailAddress: "ana@example.com" }],
    });
    expect(created.status).toBe(200);
    const body = (await created.json()) as { Contacts: { ContactID: string }[] };
    const duplicate = await write(xero.url, "PUT", "Contacts", { Contacts: [{ Name: "ana" }] });
    expect(duplicate.status).toBe(400);
    expect(await duplicate.json()).toMatchObject({
      Type: "ValidationException",
      Elements: [
        { ValidationErrors: [{ Message: expect.stringMatching(/already assigned to another contact/) }] },
      ],
    });
    const where = encodeURIComponent('EmailAddress=="ANA@example.com"');
    const found = await fetch(`${xero.url}/api.xro/2.0/Contacts?where=${where}`, { headers: apiHeaders });
    expect(await found.json()).toMatchObject({ Contacts: [{ ContactID: body.Contacts[0]?.ContactID }] });
    const bad = await fetch(
      `${xero.url}/api.xro/2.0/Contacts?where=${encodeURIComponent("Name.Contains(x)")}`,
      {
        headers: apiHeaders,
      },
    );
    expect(bad.status).toBe(400);
  });

  it("creates an invoice with PUT: computed totals for Exclusive and Inclusive; Idempotency-Key replays", async () => {
    const xero = await start();
    const contact = xero.addContact({ Name: "Ben" });
    const invoice = (LineAmountTypes: string, key: string) =>
      write(
        xero.url,
        "PUT",
        "Invoices",
        {
          Invoices: [
            {
              Type: "ACCREC",
              Contact: { ContactID: contact.ContactID },
              LineAmountTypes,
              Status: "AUTHORISED",
              Reference: `ref-${key}`,
              Date: "2026-11-20",
              LineItems: [
                { Description: "Thing", Quantity: 2, UnitAmount: 55, AccountCode: "200", TaxType: "OUTPUT" },
              ],
            },
          ],
        },
        key,
      );
    const exclusive = (await (await invoice("Exclusive", "a")).json()) as {
      Invoices: Record<string, unknown>[];
    };
    expect(exclusive.Invoices[0]).toMatchObject({
      SubTotal: 110,
      TotalTax: 11,
      Total: 121,
      Status: "AUTHORISED",
      AmountDue: 121,
    });
    const inclusive = (await (await invoice("Inclusive", "b")).json()) as {
      Invoices: Record<string, unknown>[];
    };
    expect(inclusive.Invoices[0]).toMatchObject({ SubTotal: 100, TotalTax: 10, Total: 110 });
    const replay = (await (await invoice("Inclusive", "b")).json()) as {
      Invoices: Record<string, unknown>[];
    };
    expect(replay.Invoices[0]?.InvoiceID).toBe(inclusive.Invoices[0]?.InvoiceID);
    expect(xero.state.invoices.size).toBe(2);

    const byRef = await fetch(
      `${xero.url}/api.xro/2.0/Invoices?where=${encodeURIComponent('Reference=="ref-a"')}`,
      {
        headers: apiHeaders,
      },
    );
    expect(await byRef.json()).toMatchObject({ Invoices: [{ InvoiceID: exclusive.Invoices[0]?.InvoiceID }] });
  });
});
