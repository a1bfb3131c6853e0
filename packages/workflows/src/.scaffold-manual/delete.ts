import { z } from "zod";
import { defineWorkflow } from "../define-workflow.js";

/**
 * TODO: say what this workflow does and why. As generated, it copies a Xero contact to HubSpot
 * when a `standard` `delete.requested` event arrives: replace the steps with your own.
 */
export const deleteWorkflow = defineWorkflow({
  id: "delete",
  trigger: { source: "standard", event: "delete.requested" },
  // A Standard Webhooks body is `{ type, timestamp, data }`; the sender's own fields are in `data`.
  toInput: (event) => {
    const body = event.data as { data?: { contactId?: unknown } };
    return { contactId: body.data?.contactId };
  },
  input: z.object({ contactId: z.string().min(1) }),
  retries: { attempts: 5, backoff: { type: "exponential", delayMs: 2_000 } },
  async run({ input, step, connectors, relate }) {
    // I/O happens only inside steps: a step's result is stored, and a retry reuses it.
    const contact = await step.run("fetch-contact", () => connectors.xero.getContact(input.contactId));
    await relate({ system: "xero", recordType: "contact", recordId: contact.id, action: "read" });
    // Plain code between steps must be deterministic: it runs again on every attempt.
    const email = contact.email;
    if (!email) return { skipped: "contact has no email address", contactId: contact.id };

    const upserted = await step.run("upsert-hubspot-contact", () =>
      connectors.hubspot.upsertContactByEmail({
        email,
        properties: { firstname: contact.firstName ?? "", lastname: contact.lastName ?? "" },
      }),
    );
    await relate({
      system: "hubspot",
      recordType: "contact",
      recordId: upserted.id,
      action: upserted.created ? "created" : "updated",
    });
    return { contactId: contact.id, hubspotContactId: upserted.id, created: upserted.created };
  },
});
