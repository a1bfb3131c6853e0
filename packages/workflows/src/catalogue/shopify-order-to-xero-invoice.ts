import type { ShopifyOrder, XeroNewInvoice, XeroNewLineItem } from "@zixly/connectors";
import { z } from "zod";
import { defineWorkflow } from "../define-workflow.js";

/**
 * What the invoices this workflow creates look like. `accountCode` is the revenue account every
 * line is coded to (`200` is "Sales" in Xero's default chart of accounts); `status` AUTHORISED
 * makes the invoice final (awaiting payment) rather than a draft.
 */
export const shopifyInvoiceSettings = {
  accountCode: "200",
  status: "AUTHORISED",
} as const;

/** Order financial statuses that get an invoice: money was taken (refunds are not undone here). */
const INVOICED_STATUSES = new Set(["paid", "partially_refunded", "refunded"]);

/** The Xero invoice `Reference` for an order: unique per order, and how a retry finds its invoice. */
export function shopifyInvoiceReference(order: { id: string; name: string }): string {
  return `Shopify ${order.name} (${order.id})`;
}

/**
 * Shopify order paid → Xero sales invoice. Re-reads the order from Shopify (the webhook body may
 * be stale), finds or creates the Xero contact by the customer's email, and creates an
 * AUTHORISED invoice with the order's lines, shipping, discounts and tax. Creating the invoice
 * is idempotent across retries: the step first looks the invoice up by its `Reference`, and the
 * create carries an `Idempotency-Key` derived from the order id. See
 * `docs/workflows/shopify-order-to-xero-invoice.md`.
 */
export const shopifyOrderToXeroInvoice = defineWorkflow({
  id: "shopify-order-to-xero-invoice",
  trigger: { source: "shopify", event: "orders.paid" },
  toInput: (event) => {
    const data = event.data as { id?: unknown };
    const id = typeof data.id === "number" || typeof data.id === "string" ? String(data.id) : undefined;
    return { orderId: id, shop: event.accountId };
  },
  input: z.object({ orderId: z.string().regex(/^\d+$/), shop: z.string().min(1) }),
  retries: { attempts: 5, backoff: { type: "exponential", delayMs: 2_000 } },
  async run({ input, step, connectors, relate, log }) {
    const order = await step.run("fetch-order", () => connectors.shopify.getOrder(input.orderId));
    await relate({ system: "shopify", recordType: "order", recordId: order.id, action: "read" });
    if (!INVOICED_STATUSES.has(order.financialStatus ?? "")) {
      return { skipped: "order is not paid", orderId: order.id, financialStatus: order.financialStatus };
    }
    const email = order.email ?? order.customer?.email ?? null;
    if (!email) return { skipped: "order has no customer email address", orderId: order.id };

    const contact = await step.run("find-or-create-contact", () =>
      connectors.xero.findOrCreateContact(
        { ...contactName(order, email), email },
        { idempotencyKey: `shopify-order-${order.id}-contact` },
      ),
    );
    await relate({
      system: "xero",
      recordType: "contact",
      recordId: contact.id,
      action: contact.created ? "created" : "read",
    });

    const reference = shopifyInvoiceReference(order);
    // Lookup and create in one step: a create that timed out but happened at Xero is found by
    // its reference on the retry (and, within Xero's window, its Idempotency-Key answers the
    // same invoice again). A separate lookup step would replay its "not found" memo instead.
    const invoice = await step.run("create-invoice", async () => {
      const existing = await connectors.xero.getInvoiceByReference(reference);
      if (existing) return { ...existing, created: false };
      const created = await connectors.xero.createInvoice(invoiceFor(order, contact.id, reference), {
        idempotencyKey: `shopify-order-${order.id}-invoice`,
      });
      return { ...created, created: true };
    });
    await relate({
      system: "xero",
      recordType: "invoice",
      recordId: invoice.id,
      action: invoice.created ? "created" : "read",
    });
    if (Math.abs(invoice.total - order.totalPrice) >= 0.01) {
      log.warn(
        {
          orderId: order.id,
          orderTotal: order.totalPrice,
          invoiceId: invoice.id,
          invoiceTotal: invoice.total,
        },
        "the Xero invoice total differs from the Shopify order total (tax rounding or account tax rates)",
      );
    }

    return {
      orderId: order.id,
      orderName: order.name,
      contactId: contact.id,
      contactCreated: contact.created,
      invoiceId: invoice.id,
      invoiceNumber: invoice.number,
      invoiceCreated: invoice.created,
      total: invoice.total,
    };
  },
});

function contactName(
  order: Pick<ShopifyOrder, "customer">,
  email: string,
): { name: string; firstName?: string; lastName?: string } {
  const first = order.customer?.firstName ?? undefined;
  const last = order.customer?.lastName ?? undefined;
  const name = [first, last].filter(Boolean).join(" ") || email;
  return { name, ...(first ? { firstName: first } : {}), ...(last ? { lastName: last } : {}) };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function taxOf(lines: { price: number }[]): number {
  return round2(lines.reduce((sum, t) => sum + t.price, 0));
}

/**
 * The Xero invoice for an order. Each product line keeps Shopify's unit price, quantity and line
 * discount, with Shopify's tax as the line's `TaxAmount` (Xero's rate for the account decides the
 * tax type; the amount overrides what it would compute). Shipping lines become lines too. Prices
 * are tax-inclusive when the shop's are; an order without tax is `NoTax`.
 */
export function invoiceFor(order: ShopifyOrder, contactId: string, reference: string): XeroNewInvoice {
  const { accountCode } = shopifyInvoiceSettings;
  const lines: XeroNewLineItem[] = order.lineItems.map((item) => ({
    description: item.sku ? `${item.title} (${item.sku})` : item.title,
    quantity: item.quantity,
    unitAmount: item.price,
    taxAmount: taxOf(item.taxLines),
    accountCode,
    ...(item.totalDiscount > 0 ? { discountAmount: item.totalDiscount } : {}),
  }));
  for (const shipping of order.shippingLines) {
    if (shipping.price <= 0) continue;
    lines.push({
      description: `Shipping: ${shipping.title}`,
      quantity: 1,
      unitAmount: shipping.price,
      taxAmount: taxOf(shipping.taxLines),
      accountCode,
    });
  }
  const day = order.createdAt.slice(0, 10);
  return {
    contactId,
    reference,
    currencyCode: order.currency,
    date: day,
    dueDate: day,
    status: shopifyInvoiceSettings.status,
    lineAmountTypes: order.totalTax === 0 ? "NoTax" : order.taxesIncluded ? "Inclusive" : "Exclusive",
    lineItems: lines,
  };
}
