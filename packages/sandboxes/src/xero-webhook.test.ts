import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signedXeroInvoiceDelivery } from "./xero-webhook.js";

describe("signedXeroInvoiceDelivery", () => {
  it("signs the raw body as Xero does and describes one invoice UPDATE", () => {
    const d = signedXeroInvoiceDelivery({ invoiceId: "inv-1", xeroTenantId: "org-1", webhookKey: "key" });
    expect(d.headers["x-xero-signature"]).toBe(createHmac("sha256", "key").update(d.body).digest("base64"));
    const parsed = JSON.parse(d.body) as { events: Array<Record<string, string>> };
    expect(parsed.events).toEqual([
      expect.objectContaining({
        resourceId: "inv-1",
        tenantId: "org-1",
        eventType: "UPDATE",
        eventCategory: "INVOICE",
        resourceUrl: "https://api.xero.com/api.xro/2.0/Invoices/inv-1",
      }),
    ]);
  });

  it("makes each delivery's bytes unique", () => {
    const options = { invoiceId: "inv-1", xeroTenantId: "org-1", webhookKey: "key" };
    expect(signedXeroInvoiceDelivery(options).body).not.toBe(signedXeroInvoiceDelivery(options).body);
  });
});
