import type { HubspotConnector, XeroConnector, XeroInvoice } from "@zixly/connectors";
import { describe, expect, it, vi } from "vitest";
import type { WorkflowEvent } from "../define-workflow.js";
import { runWorkflow } from "../engine/run-workflow.js";
import { createMemoryStepStore } from "../engine/step-store.js";
import { xeroInvoicePaidToHubspot } from "./xero-invoice-paid-to-hubspot.js";

const silent = { info() {}, warn() {}, error() {} };

function invoice(overrides: Partial<XeroInvoice> = {}): XeroInvoice {
  return {
    id: "inv-1",
    number: "INV-0001",
    status: "PAID",
    total: 115,
    amountPaid: 115,
    amountDue: 0,
    currency: "NZD",
    reference: null,
    fullyPaidOn: "2026-11-20",
    contact: {
      id: "c-1",
      name: "Ridgeway Ltd",
      email: "ap@ridgeway.example",
      firstName: "Ana",
      lastName: "Reid",
    },
    ...overrides,
  };
}

function fakes(inv: XeroInvoice, existing: { id: string } | null) {
  const xero = { getInvoice: vi.fn(async () => inv), getContact: vi.fn() } as unknown as XeroConnector;
  const hubspot = {
    findContactByEmail: vi.fn(),
    createContact: vi.fn(),
    updateContact: vi.fn(async (id: string) => ({ id, email: inv.contact.email, properties: {} })),
    upsertContactByEmail: vi.fn(async () =>
      existing
        ? { id: existing.id, email: inv.contact.email, properties: {}, created: false }
        : { id: "hs-new", email: inv.contact.email, properties: {}, created: true },
    ),
  } as unknown as HubspotConnector;
  return { xero, hubspot };
}

const event: WorkflowEvent = {
  source: "xero",
  type: "invoice.updated",
  id: "k",
  accountId: "xero-tenant",
  data: { resourceId: "inv-1", tenantId: "xero-tenant", eventCategory: "INVOICE", eventType: "UPDATE" },
};

const run = (connectors: ReturnType<typeof fakes>, store = createMemoryStepStore(), attempt = 1) =>
  runWorkflow({
    definition: xeroInvoicePaidToHubspot,
    job: { id: "job-1", tenantId: "t-1", attempt },
    event,
    store,
    connectors,
    log: silent,
  });

describe("xero-invoice-paid-to-hubspot", () => {
  it("updates the existing HubSpot contact of a paid invoice once and relates both records", async () => {
    const connectors = fakes(invoice(), { id: "hs-9" });
    const store = createMemoryStepStore();
    const result = await run(connectors, store);
    expect(result).toEqual({ invoiceId: "inv-1", contactId: "hs-9", contactCreated: false });
    expect(connectors.hubspot.upsertContactByEmail).toHaveBeenCalledWith({ email: "ap@ridgeway.example" });
    expect(connectors.hubspot.updateContact).toHaveBeenCalledTimes(1);
    expect(vi.mocked(connectors.hubspot.updateContact).mock.calls[0]?.[1]).toMatchObject({
      xero_last_paid_invoice_number: "INV-0001",
      xero_last_payment_amount: "115",
    });
    expect(store.related.get("job-1")).toEqual([
      { system: "xero", recordType: "invoice", recordId: "inv-1", action: "read" },
      { system: "hubspot", recordType: "contact", recordId: "hs-9", action: "updated" },
    ]);
  });

  it("creates the contact when HubSpot has none", async () => {
    const connectors = fakes(invoice(), null);
    await expect(run(connectors)).resolves.toMatchObject({ contactId: "hs-new", contactCreated: true });
    expect(vi.mocked(connectors.hubspot.updateContact).mock.calls[0]?.[1]).toMatchObject({
      firstname: "Ana",
      lastname: "Reid",
    });
  });

  it("skips an unpaid invoice without touching HubSpot", async () => {
    const connectors = fakes(invoice({ status: "AUTHORISED" }), null);
    await expect(run(connectors)).resolves.toMatchObject({ skipped: "invoice not paid" });
    expect(connectors.hubspot.upsertContactByEmail).not.toHaveBeenCalled();
    expect(connectors.hubspot.updateContact).not.toHaveBeenCalled();
  });

  it("replays finished steps from the memo on a retry", async () => {
    const connectors = fakes(invoice(), { id: "hs-9" });
    vi.mocked(connectors.hubspot.updateContact).mockRejectedValueOnce(new Error("HubSpot 502"));
    const store = createMemoryStepStore();
    await expect(run(connectors, store, 1)).rejects.toThrow("HubSpot 502");
    await run(connectors, store, 2);
    expect(connectors.xero.getInvoice).toHaveBeenCalledTimes(1);
    expect(connectors.hubspot.upsertContactByEmail).toHaveBeenCalledTimes(1);
    expect(connectors.hubspot.updateContact).toHaveBeenCalledTimes(2);
  });

  it("fails without retry on input the schema refuses", async () => {
    const connectors = fakes(invoice(), null);
    await expect(
      runWorkflow({
        definition: xeroInvoicePaidToHubspot,
        job: { id: "j", tenantId: "t", attempt: 1 },
        event: { ...event, data: { tenantId: "x" } },
        store: createMemoryStepStore(),
        connectors,
        log: silent,
      }),
    ).rejects.toMatchObject({ name: "NonRetriableError", message: expect.stringMatching(/invoiceId/) });
  });
});
