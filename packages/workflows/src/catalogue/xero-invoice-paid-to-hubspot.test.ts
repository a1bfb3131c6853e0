import type { HubspotConnector, HubspotDeal, XeroConnector, XeroInvoice } from "@zixly/connectors";
import { describe, expect, it, vi } from "vitest";
import type { WorkflowEvent } from "../define-workflow.js";
import { runWorkflow } from "../engine/run-workflow.js";
import { createMemoryStepStore } from "../engine/step-store.js";
import { loadEventFixture, testWorkflow } from "../testing/index.js";
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

type FakeDeal = HubspotDeal & { contactIds: string[] };

function deal(id: string, properties: Record<string, string>): FakeDeal {
  return { id, properties: { dealname: `Deal ${id}`, ...properties }, contactIds: ["hs-9"] };
}

function fakes(inv: XeroInvoice, existing: { id: string } | null, deals: FakeDeal[] = []) {
  const xero = { getInvoice: vi.fn(async () => inv), getContact: vi.fn() } as unknown as XeroConnector;
  const hubspot = {
    findContactByEmail: vi.fn(),
    createContact: vi.fn(),
    getContactDealIds: vi.fn(async () => deals.map((d) => d.id)),
    getDeal: vi.fn(async (id: string) => {
      const found = deals.find((d) => d.id === id);
      if (!found) throw new Error(`no deal ${id}`);
      return found;
    }),
    updateDeal: vi.fn(async (id: string, properties: Record<string, string>) => ({ id, properties })),
    addNote: vi.fn(async (note: { body: string; timestamp?: string }) => ({
      id: "note-1",
      body: note.body,
      timestamp: note.timestamp ?? "",
    })),
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
    expect(result).toEqual({ invoiceId: "inv-1", contactId: "hs-9", contactCreated: false, dealId: null });
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

  it("creates the contact when HubSpot has none (and looks for no deals on it)", async () => {
    const connectors = fakes(invoice(), null);
    await expect(run(connectors)).resolves.toMatchObject({ contactId: "hs-new", contactCreated: true });
    expect(connectors.hubspot.getContactDealIds).not.toHaveBeenCalled();
    expect(vi.mocked(connectors.hubspot.updateContact).mock.calls[0]?.[1]).toMatchObject({
      firstname: "Ana",
      lastname: "Reid",
    });
  });

  it("marks the contact's won deal paid and files a payment note on the deal and the contact", async () => {
    const connectors = fakes(invoice({ reference: "PO <7>" }), { id: "hs-9" }, [
      deal("d-open", { dealstage: "appointmentscheduled", createdate: "2026-11-01T00:00:00Z" }),
      deal("d-old", { dealstage: "closedwon", createdate: "2026-01-01T00:00:00Z" }),
      deal("d-new", { dealstage: "closedwon", createdate: "2026-10-01T00:00:00Z" }),
    ]);
    const store = createMemoryStepStore();
    const result = await run(connectors, store);
    expect(result).toEqual({
      invoiceId: "inv-1",
      contactId: "hs-9",
      contactCreated: false,
      dealId: "d-new",
      noteId: "note-1",
    });
    expect(connectors.hubspot.updateContact).toHaveBeenCalledTimes(1);
    expect(connectors.hubspot.updateDeal).toHaveBeenCalledWith("d-new", {
      xero_invoice_number: "INV-0001",
      xero_invoice_status: "PAID",
      xero_amount_paid: "115",
      xero_payment_currency: "NZD",
      xero_paid_on: "2026-11-20",
    });
    const note = vi.mocked(connectors.hubspot.addNote).mock.calls[0]?.[0];
    expect(note).toMatchObject({
      contactIds: ["hs-9"],
      dealIds: ["d-new"],
      timestamp: "2026-11-20T00:00:00.000Z",
    });
    expect(note?.body).toContain("Xero invoice INV-0001 paid in full");
    expect(note?.body).toContain("NZD 115.00 on 2026-11-20");
    expect(note?.body).toContain("PO &#60;7&#62;");
    expect(store.related.get("job-1")).toEqual([
      { system: "xero", recordType: "invoice", recordId: "inv-1", action: "read" },
      { system: "hubspot", recordType: "contact", recordId: "hs-9", action: "updated" },
      { system: "hubspot", recordType: "deal", recordId: "d-new", action: "updated" },
      { system: "hubspot", recordType: "note", recordId: "note-1", action: "created" },
    ]);
  });

  it("prefers the deal that already names the invoice, even when it is not the newest", async () => {
    const connectors = fakes(invoice(), { id: "hs-9" }, [
      deal("d-named", {
        dealstage: "contractsent",
        xero_invoice_number: "INV-0001",
        createdate: "2025-01-01T00:00:00Z",
      }),
      deal("d-won", { dealstage: "closedwon", createdate: "2026-10-01T00:00:00Z" }),
    ]);
    await expect(run(connectors)).resolves.toMatchObject({ dealId: "d-named" });
  });

  it("leaves open deals alone: no deal update and no note when no deal is won or named", async () => {
    const connectors = fakes(invoice(), { id: "hs-9" }, [deal("d-open", { dealstage: "qualifiedtobuy" })]);
    await expect(run(connectors)).resolves.toMatchObject({ dealId: null });
    expect(connectors.hubspot.updateDeal).not.toHaveBeenCalled();
    expect(connectors.hubspot.addNote).not.toHaveBeenCalled();
  });

  it("a retry after the note failed adds the note once and does not update the deal again", async () => {
    const connectors = fakes(invoice(), { id: "hs-9" }, [deal("d-1", { dealstage: "closedwon" })]);
    vi.mocked(connectors.hubspot.addNote).mockRejectedValueOnce(new Error("HubSpot 502"));
    const store = createMemoryStepStore();
    await expect(run(connectors, store, 1)).rejects.toThrow("HubSpot 502");
    await expect(run(connectors, store, 2)).resolves.toMatchObject({ dealId: "d-1", noteId: "note-1" });
    expect(connectors.hubspot.updateContact).toHaveBeenCalledTimes(1);
    expect(connectors.hubspot.updateDeal).toHaveBeenCalledTimes(1);
    expect(connectors.hubspot.addNote).toHaveBeenCalledTimes(2);
  });

  it("runs from its sample event (the fixture) through the test engine", async () => {
    const connectors = fakes(invoice(), { id: "hs-9" });
    const result = await testWorkflow(xeroInvoicePaidToHubspot, {
      event: loadEventFixture(new URL("./xero-invoice-paid-to-hubspot.fixture.json", import.meta.url)),
      connectors,
    });
    expect(result).toMatchObject({ status: "COMPLETED", result: { contactId: "hs-9" } });
    expect(result.steps.map((s) => s.name)).toEqual([
      "fetch-invoice",
      "find-or-create-contact",
      "mark-contact-paid",
    ]);
    expect(connectors.xero.getInvoice).toHaveBeenCalledWith("243216c5-369e-4056-ac67-05388f86dc81");
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
