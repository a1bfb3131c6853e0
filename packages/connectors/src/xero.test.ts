import net from "node:net";
import {
  isNonRetriableError,
  NonRetriableError,
  RetryAfterError,
  retryAfterMsOf,
  serializeError,
} from "@zixly/core";
import { createXeroSandbox, XERO_SANDBOX_DEFAULTS, type XeroSandbox } from "@zixly/sandboxes";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConnectorCall } from "./connector-call.js";
import { createXeroConnector, type XeroConnectorOptions } from "./xero.js";

/** Distinctive, so a leak anywhere in an error is easy to spot. */
const SECRET_TOKEN = "xero-at-7f3a9c-SHOULD-NEVER-APPEAR-IN-ERRORS";

let sandbox: XeroSandbox;
beforeEach(async () => {
  sandbox = await createXeroSandbox({ validTokens: [SECRET_TOKEN] });
});
afterEach(async () => {
  await sandbox.close();
});

function connector(overrides: Partial<XeroConnectorOptions> = {}) {
  return createXeroConnector({
    accessToken: SECRET_TOKEN,
    xeroTenantId: XERO_SANDBOX_DEFAULTS.tenantId,
    apiBaseUrl: sandbox.url,
    ...overrides,
  });
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

describe("xero connector: getInvoice through xero-node against the sandbox", () => {
  it("maps a PAID invoice: amounts, status, dates and the contact's email", async () => {
    const stored = sandbox.addInvoice({
      Status: "PAID",
      InvoiceNumber: "INV-1042",
      Reference: "PO 77",
      Total: 1250.5,
      CurrencyCode: "NZD",
      FullyPaidOnDate: new Date(Date.UTC(2024, 5, 15)),
      Contact: { Name: "Ana Lima", FirstName: "Ana", LastName: "Lima", EmailAddress: "ana.lima@example.com" },
    });

    const invoice = await connector().getInvoice(stored.InvoiceID);

    expect(invoice).toEqual({
      id: stored.InvoiceID,
      number: "INV-1042",
      status: "PAID",
      total: 1250.5,
      amountPaid: 1250.5,
      amountDue: 0,
      currency: "NZD",
      reference: "PO 77",
      fullyPaidOn: "2024-06-15",
      contact: {
        id: stored.Contact.ContactID,
        name: "Ana Lima",
        email: "ana.lima@example.com",
        firstName: "Ana",
        lastName: "Lima",
      },
    });
  });

  it("maps an unpaid invoice with a contact that has no email", async () => {
    const stored = sandbox.addInvoice({ Status: "AUTHORISED", Total: 80, Contact: { Name: "Walk-in" } });
    const invoice = await connector().getInvoice(stored.InvoiceID);
    expect(invoice).toMatchObject({
      status: "AUTHORISED",
      amountPaid: 0,
      amountDue: 80,
      fullyPaidOn: null,
      reference: null,
      contact: { name: "Walk-in", email: null, firstName: null, lastName: null },
    });
  });

  it("calls the path Xero documents, with the bearer token and the tenant header", async () => {
    const stored = sandbox.addInvoice();
    await connector({ apiBaseUrl: `${sandbox.url}/` }).getInvoice(stored.InvoiceID);
    expect(sandbox.requests).toHaveLength(1);
    expect(sandbox.requests[0]).toMatchObject({
      method: "GET",
      path: `/api.xro/2.0/Invoices/${stored.InvoiceID}`,
      headers: { authorization: `Bearer ${SECRET_TOKEN}`, "xero-tenant-id": XERO_SANDBOX_DEFAULTS.tenantId },
    });
  });

  it("fetches a contact", async () => {
    const contact = sandbox.addContact({ Name: "Acme Ltd", EmailAddress: "ap@acme.test" });
    await expect(connector().getContact(contact.ContactID)).resolves.toEqual({
      id: contact.ContactID,
      name: "Acme Ltd",
      email: "ap@acme.test",
      firstName: null,
      lastName: null,
    });
    expect(sandbox.requests[0]?.path).toBe(`/api.xro/2.0/Contacts/${contact.ContactID}`);
  });
});

describe("xero connector: error mapping", () => {
  it("unknown invoice → NonRetriableError with Xero's 404 text", async () => {
    const err = await rejectionOf(connector().getInvoice("5b7a1d4e-0000-4000-8000-000000000000"));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe(
      "xero getInvoice failed: 404 Not Found — The resource you're looking for cannot be found",
    );
    expectNoSecret(err);
  });

  it("500 → plain, retryable Error", async () => {
    const stored = sandbox.addInvoice();
    sandbox.failNext({ status: 500 });
    const err = await rejectionOf(connector().getInvoice(stored.InvoiceID));
    expect(err.constructor).toBe(Error);
    expect(isNonRetriableError(err)).toBe(false);
    expect(retryAfterMsOf(err)).toBeUndefined();
    expect(err.message).toMatch(
      /^xero getInvoice failed: 500 Internal Server Error — Internal Server Error: An error occurred in Xero/,
    );
    expectNoSecret(err);
  });

  it("429 with Retry-After: 2 → RetryAfterError(2000), naming the limit Xero reports", async () => {
    const stored = sandbox.addInvoice();
    sandbox.failNext({ status: 429, headers: { "Retry-After": "2", "X-Rate-Limit-Problem": "minute" } });
    const err = await rejectionOf(connector().getInvoice(stored.InvoiceID));
    expect(err).toBeInstanceOf(RetryAfterError);
    expect(retryAfterMsOf(err)).toBe(2000);
    expect(err.message).toBe(
      "xero getInvoice failed: 429 Too Many Requests — rate limit exceeded (minute) (retry after 2s)",
    );
    expectNoSecret(err);
  });

  it("429 without Retry-After → RetryAfterError with the 60 s default", async () => {
    const stored = sandbox.addInvoice();
    sandbox.failNext({ status: 429, headers: { "Retry-After": "" } });
    const err = await rejectionOf(connector().getInvoice(stored.InvoiceID));
    expect(retryAfterMsOf(err)).toBe(60_000);
  });

  it("a rejected token → NonRetriableError whose message, cause and stack never hold the token", async () => {
    await sandbox.close();
    sandbox = await createXeroSandbox({ validTokens: ["some-other-token"] });
    const stored = sandbox.addInvoice();
    const err = await rejectionOf(connector().getInvoice(stored.InvoiceID));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe(
      "xero getInvoice failed: 401 Unauthorized — Unauthorized: AuthenticationUnsuccessful",
    );
    expectNoSecret(err);
    // The token did reach the sandbox (so the assertion above is meaningful).
    expect(sandbox.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET_TOKEN}`);
  });

  it("an error body that echoes the token is scrubbed", async () => {
    const stored = sandbox.addInvoice();
    sandbox.failNext({ status: 400, body: { Message: `token ${SECRET_TOKEN} is odd`, Elements: [] } });
    const err = await rejectionOf(connector().getInvoice(stored.InvoiceID));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toContain("[redacted]");
    expectNoSecret(err);
  });

  it("a network error (connection reset, server gone) → plain, retryable Error", async () => {
    const stored = sandbox.addInvoice();
    sandbox.failNext({ reset: true });
    const reset = await rejectionOf(connector().getInvoice(stored.InvoiceID));
    expect(reset.constructor).toBe(Error);
    expect(reset.message).toMatch(/^xero getInvoice failed: network error — /);
    expectNoSecret(reset);

    const url = sandbox.url;
    await sandbox.close();
    const refused = await rejectionOf(connector({ apiBaseUrl: url }).getInvoice(stored.InvoiceID));
    expect(refused.message).toMatch(/^xero getInvoice failed: network error — connect ECONNREFUSED/);
    sandbox = await createXeroSandbox();
  });

  it("a vendor that never answers → retryable timeout Error", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const err = await rejectionOf(
        connector({ apiBaseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200 }).getInvoice("any-id"),
      );
      expect(err.constructor).toBe(Error);
      expect(err.message).toBe("xero getInvoice failed: network error — no response within 200 ms");
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("rejects an empty invoice id without calling Xero (it would list invoices)", async () => {
    const err = await rejectionOf(connector().getInvoice(" "));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(sandbox.requests).toHaveLength(0);
  });

  it("refuses a base URL that already holds the API path", () => {
    expect(() => connector({ apiBaseUrl: `${sandbox.url}/api.xro/2.0` })).toThrow(/origin only/);
  });
});

describe("xero connector: onCall", () => {
  it("reports every operation with outcome, HTTP status and latency", async () => {
    const calls: ConnectorCall[] = [];
    const xero = connector({
      onCall: (c) => {
        calls.push(c);
        throw new Error("a broken metrics hook must not matter");
      },
    });
    const stored = sandbox.addInvoice();
    await xero.getInvoice(stored.InvoiceID);
    await rejectionOf(xero.getInvoice("missing"));
    expect(calls).toEqual([
      {
        connector: "xero",
        operation: "getInvoice",
        status: "ok",
        httpStatus: 200,
        durationMs: expect.any(Number),
      },
      {
        connector: "xero",
        operation: "getInvoice",
        status: "error",
        httpStatus: 404,
        durationMs: expect.any(Number),
      },
    ]);
    expect(calls[0]?.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe("xero connector: contacts and invoices for workflows that write to Xero", () => {
  it("finds a contact by email with Xero's optimised where filter, null when none", async () => {
    const ana = sandbox.addContact({ Name: "Ana Lima", EmailAddress: "ana@example.com" });
    sandbox.addContact({ Name: "Old Ana", EmailAddress: "ana@example.com", ContactStatus: "ARCHIVED" });
    const xero = connector();
    await expect(xero.findContactByEmail("ana@example.com")).resolves.toMatchObject({ id: ana.ContactID });
    await expect(xero.findContactByEmail("nobody@example.com")).resolves.toBeNull();
    expect(sandbox.requests[0]).toMatchObject({
      method: "GET",
      path: "/api.xro/2.0/Contacts",
      query: { where: 'EmailAddress=="ana@example.com"' },
    });
    expect(await rejectionOf(xero.findContactByEmail('a"b@example.com'))).toBeInstanceOf(NonRetriableError);
  });

  it("creates a contact with PUT /Contacts and the Idempotency-Key header; a repeat creates nothing", async () => {
    const xero = connector();
    const input = { name: "Ben Okafor", email: "ben@example.com", firstName: "Ben", lastName: "Okafor" };
    const first = await xero.createContact(input, { idempotencyKey: "order-1-contact" });
    const again = await xero.createContact(input, { idempotencyKey: "order-1-contact" });
    expect(again).toEqual(first);
    expect(first).toMatchObject({ name: "Ben Okafor", email: "ben@example.com", firstName: "Ben" });
    expect(sandbox.state.contacts.size).toBe(1);
    expect(sandbox.requests[0]).toMatchObject({
      method: "PUT",
      path: "/api.xro/2.0/Contacts",
      headers: { "idempotency-key": "order-1-contact" },
      body: {
        Contacts: [
          { Name: "Ben Okafor", EmailAddress: "ben@example.com", FirstName: "Ben", LastName: "Okafor" },
        ],
      },
    });
  });

  it("findOrCreateContact: finds by email; creates; works around a name another contact has", async () => {
    const xero = connector();
    const existing = sandbox.addContact({ Name: "Cleo", EmailAddress: "cleo@example.com" });
    await expect(
      xero.findOrCreateContact({ name: "Cleo", email: "cleo@example.com" }),
    ).resolves.toMatchObject({ id: existing.ContactID, created: false });

    const created = await xero.findOrCreateContact({ name: "Cleo", email: "cleo.two@example.com" });
    expect(created).toMatchObject({ created: true, name: "Cleo (cleo.two@example.com)" });

    const err = await rejectionOf(xero.createContact({ name: "Cleo" }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe(
      "xero createContact failed: 400 Bad Request — A validation exception occurred: The contact name Cleo is already assigned to another contact. The contact name must be unique across all active contacts.",
    );
  });

  it("creates an ACCREC invoice with PUT /Invoices (lines, tax, reference, dates) and reads it by reference", async () => {
    const contact = sandbox.addContact({ Name: "Dev Patel", EmailAddress: "dev@example.com" });
    const xero = connector();
    const invoice = await xero.createInvoice(
      {
        contactId: contact.ContactID,
        reference: "Shopify #1001 (450789469)",
        currencyCode: "AUD",
        date: "2026-11-20",
        dueDate: "2026-11-20",
        status: "AUTHORISED",
        lineAmountTypes: "Exclusive",
        lineItems: [
          { description: "Mug (MUG-01)", quantity: 2, unitAmount: 20, taxAmount: 4, accountCode: "200" },
          {
            description: "Shipping",
            quantity: 1,
            unitAmount: 8,
            taxAmount: 0,
            accountCode: "200",
            discountAmount: 1,
          },
        ],
      },
      { idempotencyKey: "order-1-invoice" },
    );
    expect(invoice).toMatchObject({
      number: expect.stringMatching(/^INV-/),
      status: "AUTHORISED",
      total: 51,
      amountDue: 51,
      currency: "AUD",
      reference: "Shopify #1001 (450789469)",
      contact: { id: contact.ContactID },
    });
    const put = sandbox.requests[0];
    expect(put).toMatchObject({
      method: "PUT",
      path: "/api.xro/2.0/Invoices",
      headers: { "idempotency-key": "order-1-invoice" },
    });
    expect(put?.body).toEqual({
      Invoices: [
        {
          Type: "ACCREC",
          Contact: { ContactID: contact.ContactID },
          LineItems: [
            { Description: "Mug (MUG-01)", Quantity: 2, UnitAmount: 20, TaxAmount: 4, AccountCode: "200" },
            {
              Description: "Shipping",
              Quantity: 1,
              UnitAmount: 8,
              TaxAmount: 0,
              AccountCode: "200",
              DiscountAmount: 1,
            },
          ],
          LineAmountTypes: "Exclusive",
          Status: "AUTHORISED",
          Reference: "Shopify #1001 (450789469)",
          CurrencyCode: "AUD",
          Date: "2026-11-20",
          DueDate: "2026-11-20",
        },
      ],
    });

    await expect(xero.getInvoiceByReference("Shopify #1001 (450789469)")).resolves.toMatchObject({
      id: invoice.id,
    });
    await expect(xero.getInvoiceByReference("Shopify #9999")).resolves.toBeNull();
    expect(sandbox.requests.at(-1)?.query.where).toBe('Reference=="Shopify #9999"');
  });

  it("a refused invoice → NonRetriableError with Xero's validation messages", async () => {
    const contact = sandbox.addContact({ Name: "Eve" });
    const err = await rejectionOf(
      connector().createInvoice({
        contactId: contact.ContactID,
        status: "AUTHORISED",
        lineItems: [{ description: "No account", quantity: 1, unitAmount: 5 }],
      }),
    );
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toMatch(
      /^xero createInvoice failed: 400 Bad Request — A validation exception occurred: Account code/,
    );
    expect(await rejectionOf(connector().createInvoice({ contactId: "x", lineItems: [] }))).toBeInstanceOf(
      NonRetriableError,
    );
  });
});
