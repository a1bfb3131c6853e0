import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Pipeline, signXero, startPipeline, xeroDelivery } from "./harness.js";

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline();
});
afterAll(async () => {
  await pipeline?.close();
});

async function counts() {
  const [events, jobs] = await Promise.all([
    pipeline.db.prisma.webhookEvent.count(),
    pipeline.db.prisma.job.count(),
  ]);
  return { events, jobs };
}

describe("signed Xero webhook → queue → worker → Postgres", () => {
  it("completes a PAID invoice: step timeline, related records, one HubSpot contact update", async () => {
    const t = await pipeline.setupTenant();
    const invoice = pipeline.xero.addInvoice({
      Status: "PAID",
      Contact: { EmailAddress: "ap@ridgeway.example" },
    });
    const contact = pipeline.hubspot.addContact({ email: "ap@ridgeway.example", firstname: "Ana" });
    const { body, signature } = xeroDelivery(t.webhookKey, [
      { resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId },
    ]);

    const res = await pipeline.call("POST", t.webhookPath, {
      body,
      headers: { "content-type": "application/json", "x-xero-signature": signature },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("etag")).toBeNull(); // an answer to a POST is not revalidated
    expect(res.json.eventIds).toHaveLength(1);
    const jobIds = res.json.jobIds as string[];
    expect(jobIds).toHaveLength(1);

    const job = await pipeline.waitForJob(
      t.apiKey,
      jobIds[0]!,
      (j) => j.status === "COMPLETED" || j.status === "FAILED",
    );
    expect(job).toMatchObject({
      status: "COMPLETED",
      workflow: "xero-invoice-paid-to-hubspot",
      tenantId: t.tenantId,
      attempts: 1,
      result: { invoiceId: invoice.InvoiceID, contactId: contact.id, contactCreated: false },
      error: null,
    });
    expect((job.steps as Array<{ name: string; status: string }>).map((s) => [s.name, s.status])).toEqual([
      ["fetch-invoice", "COMPLETED"],
      ["find-or-create-contact", "COMPLETED"],
      ["mark-contact-paid", "COMPLETED"],
    ]);
    expect(job.relatedRecords).toEqual([
      { system: "xero", recordType: "invoice", recordId: invoice.InvoiceID, action: "read" },
      { system: "hubspot", recordType: "contact", recordId: contact.id, action: "updated" },
    ]);
    expect(job.startedAt).toEqual(expect.any(String));
    expect(job.completedAt).toEqual(expect.any(String));
    expect(pipeline.hubspot.count("PATCH", `/crm/v3/objects/contacts/${contact.id}`)).toBe(1);
  });

  it("completes an unpaid invoice as skipped, without writing to HubSpot", async () => {
    const t = await pipeline.setupTenant();
    const invoice = pipeline.xero.addInvoice({
      Status: "AUTHORISED",
      Contact: { EmailAddress: "unpaid@example.com" },
    });
    const before = pipeline.hubspot.requests.length;
    const { body, signature } = xeroDelivery(t.webhookKey, [
      { resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId },
    ]);
    const res = await pipeline.call("POST", t.webhookPath, {
      body,
      headers: { "x-xero-signature": signature },
    });
    expect(res.status).toBe(202);
    const job = await pipeline.waitForJob(
      t.apiKey,
      (res.json.jobIds as string[])[0]!,
      (j) => j.status === "COMPLETED",
    );
    expect(job.result).toMatchObject({ skipped: "invoice not paid" });
    expect(pipeline.hubspot.requests.length).toBe(before);
  });

  it("accepts the same event twice as one job: the repeat answers 200 with the same ids", async () => {
    const t = await pipeline.setupTenant();
    const invoice = pipeline.xero.addInvoice({ Status: "AUTHORISED" });
    const first = xeroDelivery(t.webhookKey, [{ resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId }]);
    // Xero re-sends the same event in a new envelope (new entropy): same event, other bytes.
    const again = xeroDelivery(t.webhookKey, [{ resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId }]);
    const a = await pipeline.call("POST", t.webhookPath, {
      body: first.body,
      headers: { "x-xero-signature": first.signature },
    });
    const b = await pipeline.call("POST", t.webhookPath, {
      body: again.body,
      headers: { "x-xero-signature": again.signature },
    });
    expect(a.status).toBe(202);
    expect(b.status).toBe(200);
    expect(b.json).toEqual(a.json);
    expect(await pipeline.db.prisma.job.count({ where: { tenantId: t.tenantId } })).toBe(1);
  });

  it("turns a batch of events into one event and one job each", async () => {
    const t = await pipeline.setupTenant();
    const a = pipeline.xero.addInvoice({ Status: "AUTHORISED" });
    const b = pipeline.xero.addInvoice({ Status: "AUTHORISED" });
    const { body, signature } = xeroDelivery(t.webhookKey, [
      { resourceId: a.InvoiceID, tenantId: t.xeroTenantId },
      { resourceId: b.InvoiceID, tenantId: t.xeroTenantId },
      { resourceId: b.InvoiceID, tenantId: t.xeroTenantId, eventType: "CREATE" },
    ]);
    const res = await pipeline.call("POST", t.webhookPath, {
      body,
      headers: { "x-xero-signature": signature },
    });
    expect(res.status).toBe(202);
    expect(res.json.eventIds).toHaveLength(3);
    // invoice.create matches no workflow: stored, no job.
    expect(res.json.jobIds).toHaveLength(2);
  });
});

describe("what the receiver refuses", () => {
  it("answers 401 to a wrong signature and stores and enqueues nothing", async () => {
    const t = await pipeline.setupTenant();
    const before = await counts();
    const depthBefore = await pipeline.queue.depth("jobs");
    const { body } = xeroDelivery(t.webhookKey, [{ resourceId: "inv-x", tenantId: t.xeroTenantId }]);
    for (const signature of [signXero("not-the-key", body), "", "garbage"]) {
      const res = await pipeline.call("POST", t.webhookPath, {
        body,
        headers: { "x-xero-signature": signature },
      });
      expect(res.status).toBe(401);
      expect(res.json.error?.code).toBe("invalid_signature");
    }
    const tampered = `${body.slice(0, -1)} }`;
    const res = await pipeline.call("POST", t.webhookPath, {
      body: tampered,
      headers: { "x-xero-signature": signXero(t.webhookKey, body) },
    });
    expect(res.status).toBe(401);
    expect(await counts()).toEqual(before);
    expect(await pipeline.queue.depth("jobs")).toEqual(depthBefore);
  });

  it("answers Xero's intent-to-receive: 200 when signed right, 401 when not, empty bodies", async () => {
    const t = await pipeline.setupTenant();
    const before = await counts();
    const body = JSON.stringify({
      events: [],
      firstEventSequence: 0,
      lastEventSequence: 0,
      entropy: "YSXCMKAQBJOEMGUZEPFZ",
    });
    const good = await pipeline.call("POST", t.webhookPath, {
      body,
      headers: { "x-xero-signature": signXero(t.webhookKey, body) },
    });
    expect(good.status).toBe(200);
    expect(good.text).toBe("");
    const bad = await pipeline.call("POST", t.webhookPath, {
      body,
      headers: { "x-xero-signature": signXero("wrong", body) },
    });
    expect(bad.status).toBe(401);
    expect(bad.text).toBe("");
    expect(await counts()).toEqual(before);
  });

  it("answers 400 to malformed JSON, 413 to an oversized body and 404 to an unknown endpoint", async () => {
    const t = await pipeline.setupTenant();
    const malformed = '{"events": [';
    const res400 = await pipeline.call("POST", t.webhookPath, {
      body: malformed,
      headers: { "x-xero-signature": signXero(t.webhookKey, malformed) },
    });
    expect(res400.status).toBe(400);
    expect(res400.json.error?.code).toBe("malformed_json");

    const notXero = JSON.stringify({ hello: "world" });
    const res400b = await pipeline.call("POST", t.webhookPath, {
      body: notXero,
      headers: { "x-xero-signature": signXero(t.webhookKey, notXero) },
    });
    expect(res400b.status).toBe(400);

    const huge = JSON.stringify({ events: [], pad: "x".repeat(1024 * 1024) });
    const res413 = await pipeline.call("POST", t.webhookPath, {
      body: huge,
      headers: { "x-xero-signature": signXero(t.webhookKey, huge) },
    });
    expect(res413.status).toBe(413);
    expect(res413.json.error?.code).toBe("payload_too_large");

    for (const path of ["/webhooks/00000000-0000-4000-8000-000000000000", "/webhooks/not-a-uuid"]) {
      const res404 = await pipeline.call("POST", path, { body: "{}", headers: { "x-xero-signature": "x" } });
      expect(res404.status).toBe(404);
      expect(res404.json.error?.code).toBe("not_found");
    }
  });
});

describe("the jobs API", () => {
  it("hides another tenant's job behind a 404 and lists only the caller's jobs", async () => {
    const a = await pipeline.setupTenant("Tenant A");
    const b = await pipeline.setupTenant("Tenant B");
    const invoice = pipeline.xero.addInvoice({ Status: "AUTHORISED" });
    const { body, signature } = xeroDelivery(a.webhookKey, [
      { resourceId: invoice.InvoiceID, tenantId: a.xeroTenantId },
    ]);
    const res = await pipeline.call("POST", a.webhookPath, {
      body,
      headers: { "x-xero-signature": signature },
    });
    const jobId = (res.json.jobIds as string[])[0]!;

    expect((await pipeline.call("GET", `/api/jobs/${jobId}`, { token: a.apiKey })).status).toBe(200);
    const other = await pipeline.call("GET", `/api/jobs/${jobId}`, { token: b.apiKey });
    expect(other.status).toBe(404);
    expect(other.json.error?.code).toBe("not_found");
    const listB = await pipeline.call("GET", "/api/jobs", { token: b.apiKey });
    expect(listB.json.jobs).toEqual([]);
    const listA = await pipeline.call("GET", "/api/jobs?limit=1", { token: a.apiKey });
    expect((listA.json.jobs as Array<{ id: string }>).map((j) => j.id)).toEqual([jobId]);
    expect((await pipeline.call("GET", `/api/jobs/${jobId}`)).status).toBe(401);
  });
});

describe("retries", () => {
  it("retries a job whose HubSpot calls keep failing with 5xx, then marks it FAILED with the error", async () => {
    const t = await pipeline.setupTenant();
    const invoice = pipeline.xero.addInvoice({
      Status: "PAID",
      Contact: { EmailAddress: "flaky@example.com" },
    });
    pipeline.hubspot.failAll({ status: 502 });
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
        20_000,
      );
      expect(job.attempts).toBe(5);
      expect(job.error).toMatchObject({ message: expect.stringMatching(/502/), retryable: true });
      const steps = job.steps as Array<{ name: string; status: string; attempt: number }>;
      // The Xero fetch ran once and was replayed from its memo on every retry.
      expect(steps.find((s) => s.name === "fetch-invoice")).toMatchObject({
        status: "COMPLETED",
        attempt: 1,
      });
      expect(steps.find((s) => s.name === "find-or-create-contact")).toMatchObject({
        status: "FAILED",
        attempt: 5,
      });
      expect(pipeline.xero.count("GET", `/api.xro/2.0/Invoices/${invoice.InvoiceID}`)).toBe(1);
      expect((await pipeline.queue.depth("jobs")).dead).toBeGreaterThanOrEqual(1);
    } finally {
      pipeline.hubspot.clearFailures();
    }
  });
});
