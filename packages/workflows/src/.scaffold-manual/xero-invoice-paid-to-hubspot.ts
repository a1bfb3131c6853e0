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
 * Xero invoice paid → HubSpot contact marked paid. Fetches the invoice Xero's webhook points
 * at; when it is PAID, finds the invoice contact in HubSpot by email (creating it if missing)
 * and writes the payment onto the contact.
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
    // resolved to the existing contact), and never writes to an existing one here.
    const contact = await step.run("find-or-create-contact", async () => {
      const found = await connectors.hubspot.upsertContactByEmail({ email });
      return { id: found.id, created: found.created };
    });

    // The single write to the contact: payment details, plus the name when we just created it.
    await step.run("mark-contact-paid", () =>
      connectors.hubspot.updateContact(contact.id, {
        ...(contact.created ? nameProperties(invoice.contact) : {}),
        [hubspotPaymentProperties.invoiceNumber]: invoice.number ?? invoice.id,
        [hubspotPaymentProperties.amountPaid]: String(invoice.amountPaid),
        [hubspotPaymentProperties.currency]: invoice.currency ?? "",
        [hubspotPaymentProperties.paidOn]: invoice.fullyPaidOn ?? "",
      }),
    );
    await relate({ system: "hubspot", recordType: "contact", recordId: contact.id, action: "updated" });

    return { invoiceId: invoice.id, contactId: contact.id, contactCreated: contact.created };
  },
});

function nameProperties(contact: {
  firstName: string | null;
  lastName: string | null;
}): Record<string, string> {
  const properties: Record<string, string> = {};
  if (contact.firstName) properties.firstname = contact.firstName;
  if (contact.lastName) properties.lastname = contact.lastName;
  return properties;
}
