// The pipeline's core guarantees on every queue driver: BullMQ (the rest of e2e/), SQS
// (against the wire-level stand-in, or LocalStack when LOCALSTACK_ENDPOINT is set) and
// BullMQ's PostgreSQL backend (the Postgres-only deployment).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Pipeline, startPipeline, xeroDelivery } from "./harness.js";

for (const driver of ["sqs", "postgres"] as const) {
  describe(`pipeline on QUEUE_DRIVER=${driver}`, () => {
    let pipeline: Pipeline;
    beforeAll(async () => {
      pipeline = await startPipeline({ queueDriver: driver });
    }, 60_000);
    afterAll(async () => {
      await pipeline?.close();
    });

    it("completes a paid invoice with one HubSpot update, and dedupes a repeat", async () => {
      const t = await pipeline.setupTenant();
      const invoice = pipeline.xero.addInvoice({
        Status: "PAID",
        Contact: { EmailAddress: `${driver}@example.com` },
      });
      const first = xeroDelivery(t.webhookKey, [{ resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId }]);
      const res = await pipeline.call("POST", t.webhookPath, {
        body: first.body,
        headers: { "x-xero-signature": first.signature },
      });
      expect(res.status).toBe(202);
      const jobId = (res.json.jobIds as string[])[0]!;
      const job = await pipeline.waitForJob(
        t.apiKey,
        jobId,
        (j) => j.status === "COMPLETED" || j.status === "FAILED",
        20_000,
      );
      expect(job.status).toBe("COMPLETED");
      expect(job.relatedRecords).toHaveLength(2);
      expect(pipeline.hubspot.count("PATCH", "/crm/v3/objects/contacts/:id")).toBe(1);
      const again = await pipeline.call("POST", t.webhookPath, {
        body: first.body,
        headers: { "x-xero-signature": first.signature },
      });
      expect(again.status).toBe(200);
      expect(again.json.jobIds).toEqual([jobId]);
    });

    it("retries a failing job with backoff and fails it after its attempt limit", async () => {
      const t = await pipeline.setupTenant();
      const invoice = pipeline.xero.addInvoice({
        Status: "PAID",
        Contact: { EmailAddress: `${driver}-flaky@example.com` },
      });
      pipeline.hubspot.failAll({ status: 503 });
      try {
        const { body, signature } = xeroDelivery(t.webhookKey, [
          { resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId },
        ]);
        const res = await pipeline.call("POST", t.webhookPath, {
          body,
          headers: { "x-xero-signature": signature },
        });
        const job = await pipeline.waitForJob(
          t.apiKey,
          (res.json.jobIds as string[])[0]!,
          (j) => j.status === "FAILED",
          40_000,
        );
        expect(job.attempts).toBe(5);
        expect((job.error as { message: string }).message).toMatch(/503/);
      } finally {
        pipeline.hubspot.clearFailures();
      }
    }, 60_000);
  });
}
