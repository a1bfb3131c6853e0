import type { ShopifyOrder, XeroContact, XeroInvoice, XeroNewInvoice } from "@zixly/connectors";
import { NonRetriableError } from "@zixly/core";
import { describe, expect, it, vi } from "vitest";
import { loadEventFixture, testWorkflow } from "../testing/index.js";
import {
  invoiceFor,
  shopifyInvoiceReference,
  shopifyOrderToXeroInvoice,
} from "./shopify-order-to-xero-invoice.js";

const event = loadEventFixture(new URL("./shopify-order-to-xero-invoice.fixture.json", import.meta.url));
const REFERENCE = "Shopify #1001 (450789469)";

function order(overrides: Partial<ShopifyOrder> = {}): ShopifyOrder {
  return {
    id: "450789469",
    name: "#1001",
    email: "ana.lima@example.com",
    currency: "AUD",
    totalPrice: 54,
    subtotalPrice: 40,
    totalTax: 4,
    totalDiscounts: 0,
    taxesIncluded: false,
    financialStatus: "paid",
    createdAt: "2026-11-20T20:30:00+11:00",
    lineItems: [
      {
        id: "466157049",
        title: "Ceramic mug",
        quantity: 2,
        price: 20,
        sku: "MUG-01",
        totalDiscount: 0,
        taxLines: [{ title: "GST", rate: 0.1, price: 4 }],
      },
    ],
    shippingLines: [{ title: "Standard", price: 10, taxLines: [] }],
    customer: { id: "207119551", firstName: "Ana", lastName: "Lima", email: "ana.lima@example.com" },
    ...overrides,
  };
}

const contact: XeroContact & { created: boolean } = {
  id: "c-1",
  name: "Ana Lima",
  email: "ana.lima@example.com",
  firstName: "Ana",
  lastName: "Lima",
  created: true,
};

function invoice(overrides: Partial<XeroInvoice> = {}): XeroInvoice {
  return {
    id: "inv-1",
    number: "INV-0042",
    status: "AUTHORISED",
    total: 54,
    amountPaid: 0,
    amountDue: 54,
    currency: "AUD",
    reference: REFERENCE,
    fullyPaidOn: null,
    contact,
    ...overrides,
  };
}

function fakes(o: ShopifyOrder = order(), existing: XeroInvoice | null = null) {
  return {
    shopify: { getOrder: vi.fn(async (_id: string) => o) },
    xero: {
      findOrCreateContact: vi.fn(
        async (_c: { email: string; name: string }, _o?: { idempotencyKey?: string }) => contact,
      ),
      getInvoiceByReference: vi.fn(async (_reference: string) => existing),
      createInvoice: vi.fn(async (_i: XeroNewInvoice, _o?: { idempotencyKey?: string }) => invoice()),
    },
  };
}

describe("shopify-order-to-xero-invoice", () => {
  it("reads the order, finds or creates the contact, creates the invoice, and relates all three", async () => {
    const connectors = fakes();
    const run = await testWorkflow(shopifyOrderToXeroInvoice, { event, connectors });
    expect(run).toMatchObject({
      status: "COMPLETED",
      result: {
        orderId: "450789469",
        orderName: "#1001",
        contactId: "c-1",
        contactCreated: true,
        invoiceId: "inv-1",
        invoiceNumber: "INV-0042",
        invoiceCreated: true,
        total: 54,
      },
    });
    expect(run.steps.map((s) => s.name)).toEqual(["fetch-order", "find-or-create-contact", "create-invoice"]);
    expect(run.relatedRecords).toEqual([
      { system: "shopify", recordType: "order", recordId: "450789469", action: "read" },
      { system: "xero", recordType: "contact", recordId: "c-1", action: "created" },
      { system: "xero", recordType: "invoice", recordId: "inv-1", action: "created" },
    ]);
    expect(connectors.shopify.getOrder).toHaveBeenCalledWith("450789469");
    expect(connectors.xero.findOrCreateContact).toHaveBeenCalledWith(
      { name: "Ana Lima", firstName: "Ana", lastName: "Lima", email: "ana.lima@example.com" },
      { idempotencyKey: "shopify-order-450789469-contact" },
    );
    expect(connectors.xero.getInvoiceByReference).toHaveBeenCalledWith(REFERENCE);
    expect(connectors.xero.createInvoice).toHaveBeenCalledWith(
      {
        contactId: "c-1",
        reference: REFERENCE,
        currencyCode: "AUD",
        date: "2026-11-20",
        dueDate: "2026-11-20",
        status: "AUTHORISED",
        lineAmountTypes: "Exclusive",
        lineItems: [
          {
            description: "Ceramic mug (MUG-01)",
            quantity: 2,
            unitAmount: 20,
            taxAmount: 4,
            accountCode: "200",
          },
          {
            description: "Shipping: Standard",
            quantity: 1,
            unitAmount: 10,
            taxAmount: 0,
            accountCode: "200",
          },
        ],
      },
      { idempotencyKey: "shopify-order-450789469-invoice" },
    );
  });

  it("does not create a second invoice when one with the order's reference exists", async () => {
    const connectors = fakes(order(), invoice({ id: "inv-old", number: "INV-0007" }));
    const run = await testWorkflow(shopifyOrderToXeroInvoice, { event, connectors });
    expect(run.result).toMatchObject({ invoiceId: "inv-old", invoiceCreated: false });
    expect(connectors.xero.createInvoice).not.toHaveBeenCalled();
    expect(run.relatedRecords.at(-1)).toEqual({
      system: "xero",
      recordType: "invoice",
      recordId: "inv-old",
      action: "read",
    });
  });

  it("retries a failed create with the same Idempotency-Key, looking the invoice up again first", async () => {
    const connectors = fakes();
    connectors.xero.createInvoice.mockRejectedValueOnce(
      new Error("xero createInvoice failed: network error"),
    );
    const run = await testWorkflow(shopifyOrderToXeroInvoice, { event, connectors });
    expect(run).toMatchObject({ status: "COMPLETED", attempts: 2 });
    expect(connectors.shopify.getOrder).toHaveBeenCalledTimes(1);
    expect(connectors.xero.findOrCreateContact).toHaveBeenCalledTimes(1);
    expect(connectors.xero.getInvoiceByReference).toHaveBeenCalledTimes(2);
    const keys = connectors.xero.createInvoice.mock.calls.map((c) => c[1]?.idempotencyKey);
    expect(keys).toEqual(["shopify-order-450789469-invoice", "shopify-order-450789469-invoice"]);
  });

  it("skips an order that is not paid, and one without an email, without touching Xero", async () => {
    for (const o of [order({ financialStatus: "pending" }), order({ email: null, customer: null })]) {
      const connectors = fakes(o);
      const run = await testWorkflow(shopifyOrderToXeroInvoice, { event, connectors });
      expect(run).toMatchObject({ status: "COMPLETED", result: { skipped: expect.any(String) } });
      expect(connectors.xero.findOrCreateContact).not.toHaveBeenCalled();
    }
  });

  it("fails without retry when Xero refuses the invoice", async () => {
    const connectors = fakes();
    connectors.xero.createInvoice.mockRejectedValue(new NonRetriableError("xero createInvoice failed: 400"));
    const run = await testWorkflow(shopifyOrderToXeroInvoice, { event, connectors });
    expect(run).toMatchObject({ status: "FAILED", attempts: 1, error: { name: "NonRetriableError" } });
  });

  it("is triggered by orders.paid only, and refuses an event without an order id", async () => {
    await expect(
      testWorkflow(shopifyOrderToXeroInvoice, {
        event: { ...event, type: "orders.create" },
        connectors: fakes(),
      }),
    ).rejects.toThrow(/does not trigger/);
    const run = await testWorkflow(shopifyOrderToXeroInvoice, {
      event: { ...event, data: {} },
      connectors: fakes(),
    });
    expect(run).toMatchObject({ status: "FAILED", attempts: 1, error: { name: "NonRetriableError" } });
  });
});

describe("invoiceFor: Shopify order → Xero invoice lines", () => {
  it("uses Inclusive for tax-inclusive shops, NoTax for untaxed orders, and carries line discounts", () => {
    const inclusive = invoiceFor(order({ taxesIncluded: true }), "c", "r");
    expect(inclusive.lineAmountTypes).toBe("Inclusive");

    const untaxed = invoiceFor(
      order({
        totalTax: 0,
        shippingLines: [{ title: "Free", price: 0, taxLines: [] }],
        lineItems: [
          { id: "1", title: "Gift card", quantity: 1, price: 50, sku: null, totalDiscount: 5, taxLines: [] },
        ],
      }),
      "c",
      "r",
    );
    expect(untaxed).toMatchObject({
      lineAmountTypes: "NoTax",
      lineItems: [{ description: "Gift card", quantity: 1, unitAmount: 50, taxAmount: 0, discountAmount: 5 }],
    });
    expect(untaxed.lineItems).toHaveLength(1);
    expect(shopifyInvoiceReference({ id: "9", name: "#9" })).toBe("Shopify #9 (9)");
  });
});
