import type { HubspotConnector } from "@zixly/connectors";
import { z } from "zod";
import { defineWorkflow } from "../define-workflow.js";

/**
 * HubSpot contact properties this workflow writes. They are custom properties: create them
 * in the HubSpot portal (Settings → Properties → Contact) before enabling the workflow.
 */
export const hubspotPaymentProperties = {
  invoiceNumber: "xero_last_paid_invoice_number",
  amountPaid: "xero_last_payment_amount",
  currency: "xero_last_payment_currency",
  paidOn: "xero_last_payment_date",
} as const;

/**
 * HubSpot deal properties this workflow writes (custom properties: Settings → Properties →
 * Deal). `xero_invoice_number` is also how a deal names its invoice: a deal that already holds
 * the paid invoice's number is the one updated.
 */
export const hubspotDealPaymentProperties = {
  invoiceNumber: "xero_invoice_number",
  invoiceStatus: "xero_invoice_status",
  amountPaid: "xero_amount_paid",
  currency: "xero_payment_currency",
  paidOn: "xero_paid_on",
} as const;

/** How many of a contact's deals are read to choose the one the payment belongs to. */
const MAX_DEALS_READ = 10;

/**
 * Xero invoice paid → HubSpot contact and deal marked paid. Fetches the invoice Xero's webhook
 * points at; when it is PAID, finds the invoice contact in HubSpot by email (creating it if
 * missing) and writes the payment onto the contact. When the contact has a deal the payment
 * belongs to — the deal whose `xero_invoice_number` is this invoice's, else the contact's most
 * recently created `closedwon` deal — the deal is marked paid too and a note with the payment
 * details is filed on the deal and the contact. See `docs/workflows/xero-invoice-paid-to-hubspot.md`.
 */
export const xeroInvoicePaidToHubspot = defineWorkflow({
  id: "xero-invoice-paid-to-hubspot",
  trigger: { source: "xero", event: "invoice.updated" },
  toInput: (event) => {
    const data = event.data as { resourceId?: unknown; tenantId?: unknown };
    return { invoiceId: data.resourceId, xeroTenantId: data.tenantId };
  },
  input: z.object({ invoiceId: z.string().min(1), xeroTenantId: z.string().min(1) }),
  retries: { attempts: 5, backoff: { type: "exponential", delayMs: 2_000 } },
  async run({ input, step, connectors, relate }) {
    const invoice = await step.run("fetch-invoice", () => connectors.xero.getInvoice(input.invoiceId));
    await relate({ system: "xero", recordType: "invoice", recordId: invoice.id, action: "read" });
    if (invoice.status !== "PAID") {
      return { skipped: "invoice not paid", invoiceId: invoice.id, invoiceStatus: invoice.status };
    }
    const email = invoice.contact.email;
    if (!email) {
      return { skipped: "invoice contact has no email address", invoiceId: invoice.id };
    }

    // Upsert without properties: finds the contact, or creates it (a racing create's 409 is
    // resolved to the existing contact), and never writes to an existing one here. The ids of
    // an existing contact's deals are read in the same step (reads only; a contact created
    // just now has none).
    const contact = await step.run("find-or-create-contact", async () => {
      const found = await connectors.hubspot.upsertContactByEmail({ email });
      const dealIds = found.created ? [] : await connectors.hubspot.getContactDealIds(found.id);
      return { id: found.id, created: found.created, dealIds };
    });

    const invoiceNumber = invoice.number ?? invoice.id;
    // The single write to the contact: payment details, plus the name when we just created it.
    await step.run("mark-contact-paid", () =>
      connectors.hubspot.updateContact(contact.id, {
        ...(contact.created ? nameProperties(invoice.contact) : {}),
        [hubspotPaymentProperties.invoiceNumber]: invoiceNumber,
        [hubspotPaymentProperties.amountPaid]: String(invoice.amountPaid),
        [hubspotPaymentProperties.currency]: invoice.currency ?? "",
        [hubspotPaymentProperties.paidOn]: invoice.fullyPaidOn ?? "",
      }),
    );
    await relate({ system: "hubspot", recordType: "contact", recordId: contact.id, action: "updated" });

    // A memo from before deals were looked up has no `dealIds`: treat it as "no deals".
    const dealIds = contact.dealIds ?? [];
    if (dealIds.length === 0) {
      return { invoiceId: invoice.id, contactId: contact.id, contactCreated: contact.created, dealId: null };
    }

    const deal = await step.run("find-deal", () => pickDeal(connectors.hubspot, dealIds, invoiceNumber));
    if (!deal) {
      return { invoiceId: invoice.id, contactId: contact.id, contactCreated: contact.created, dealId: null };
    }

    await step.run("mark-deal-paid", () =>
      connectors.hubspot.updateDeal(deal.id, {
        [hubspotDealPaymentProperties.invoiceNumber]: invoiceNumber,
        [hubspotDealPaymentProperties.invoiceStatus]: "PAID",
        [hubspotDealPaymentProperties.amountPaid]: String(invoice.amountPaid),
        [hubspotDealPaymentProperties.currency]: invoice.currency ?? "",
        [hubspotDealPaymentProperties.paidOn]: invoice.fullyPaidOn ?? "",
      }),
    );
    await relate({ system: "hubspot", recordType: "deal", recordId: deal.id, action: "updated" });

    const note = await step.run("add-payment-note", () =>
      connectors.hubspot.addNote({
        body: paymentNote(invoice, invoiceNumber),
        ...(invoice.fullyPaidOn ? { timestamp: `${invoice.fullyPaidOn}T00:00:00.000Z` } : {}),
        contactIds: [contact.id],
        dealIds: [deal.id],
      }),
    );
    await relate({ system: "hubspot", recordType: "note", recordId: note.id, action: "created" });

    return {
      invoiceId: invoice.id,
      contactId: contact.id,
      contactCreated: contact.created,
      dealId: deal.id,
      noteId: note.id,
    };
  },
});

/**
 * The deal a payment belongs to, among a contact's deals: the one already naming the invoice
 * (`xero_invoice_number`), else the most recently created `closedwon` deal, else none (an open
 * deal is not marked paid).
 */
async function pickDeal(
  hubspot: HubspotConnector,
  dealIds: string[],
  invoiceNumber: string,
): Promise<{ id: string; name: string | null } | null> {
  const deals = [];
  for (const id of dealIds.slice(0, MAX_DEALS_READ)) {
    deals.push(await hubspot.getDeal(id, { properties: [hubspotDealPaymentProperties.invoiceNumber] }));
  }
  const named = deals.find((d) => d.properties[hubspotDealPaymentProperties.invoiceNumber] === invoiceNumber);
  const won = deals
    .filter((d) => d.properties.dealstage === "closedwon")
    .sort((a, b) => Date.parse(b.properties.createdate ?? "") - Date.parse(a.properties.createdate ?? ""));
  const chosen = named ?? won[0];
  return chosen ? { id: chosen.id, name: chosen.properties.dealname ?? null } : null;
}

function paymentNote(
  invoice: {
    amountPaid: number;
    currency: string | null;
    fullyPaidOn: string | null;
    reference: string | null;
  },
  invoiceNumber: string,
): string {
  const amount = `${invoice.currency ? `${invoice.currency} ` : ""}${invoice.amountPaid.toFixed(2)}`;
  const parts = [
    `<p><strong>Xero invoice ${escapeHtml(invoiceNumber)} paid in full</strong></p>`,
    `<p>Amount paid: ${escapeHtml(amount)}${invoice.fullyPaidOn ? ` on ${invoice.fullyPaidOn}` : ""}.</p>`,
  ];
  if (invoice.reference) parts.push(`<p>Reference: ${escapeHtml(invoice.reference)}</p>`);
  return parts.join("");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function nameProperties(contact: {
  firstName: string | null;
  lastName: string | null;
}): Record<string, string> {
  const properties: Record<string, string> = {};
  if (contact.firstName) properties.firstname = contact.firstName;
  if (contact.lastName) properties.lastname = contact.lastName;
  return properties;
}
