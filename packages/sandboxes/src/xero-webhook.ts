import { createHmac, randomBytes } from "node:crypto";

/** A webhook delivery ready to POST: the raw body and the headers that go with it. */
export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

/**
 * A Xero webhook delivery of one invoice UPDATE event, signed as Xero signs deliveries
 * (`x-xero-signature`: base64 HMAC-SHA256 of the raw body under the app's webhook key). The
 * random `entropy` makes every delivery's bytes unique, as Xero's are.
 */
export function signedXeroInvoiceDelivery(options: {
  invoiceId: string;
  /** The Xero organisation (`tenantId`) the event belongs to. */
  xeroTenantId: string;
  webhookKey: string;
}): SignedDelivery {
  const body = JSON.stringify({
    events: [
      {
        resourceUrl: `https://api.xero.com/api.xro/2.0/Invoices/${options.invoiceId}`,
        resourceId: options.invoiceId,
        eventDateUtc: new Date().toISOString().replace("Z", ""),
        eventType: "UPDATE",
        eventCategory: "INVOICE",
        tenantId: options.xeroTenantId,
        tenantType: "ORGANISATION",
      },
    ],
    firstEventSequence: 1,
    lastEventSequence: 1,
    entropy: randomBytes(10).toString("hex"),
  });
  const signature = createHmac("sha256", options.webhookKey).update(body).digest("base64");
  return { body, headers: { "content-type": "application/json", "x-xero-signature": signature } };
}
