import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Pipeline, startPipeline, xeroDelivery } from "./harness.js";
import { spawnWorker, waitFor } from "./worker-process.js";

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ worker: false });
});
afterAll(async () => {
  await pipeline?.close();
});

describe("worker process", () => {
  it("finishes the job it is running when given SIGTERM, takes no new one, and exits 0", async () => {
    const t = await pipeline.setupTenant();
    const invoice = pipeline.xero.addInvoice({
      Status: "PAID",
      Contact: { EmailAddress: "slow@example.com" },
    });
    pipeline.xero.setLatency(2_500); // the job's first step is still waiting on Xero when SIGTERM lands

    const worker = spawnWorker(pipeline);
    try {
      await waitFor(() => worker.output().includes("worker consuming jobs"), 20_000, "the worker to start");
      const first = xeroDelivery(t.webhookKey, [{ resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId }]);
      const res = await pipeline.call("POST", t.webhookPath, {
        body: first.body,
        headers: { "x-xero-signature": first.signature },
      });
      expect(res.status).toBe(202);
      const jobId = (res.json.jobIds as string[])[0]!;
      await waitFor(
        () => pipeline.xero.count("GET", "/api.xro/2.0/Invoices/:id") > 0,
        10_000,
        "the job to call Xero",
      );

      worker.child.kill("SIGTERM");
      await waitFor(
        () => worker.output().includes("(draining) stopping"),
        5_000,
        "the worker to start draining",
      );
      // Accepted after the signal: the draining worker must leave it for another worker.
      const late = pipeline.xero.addInvoice({ Status: "AUTHORISED" });
      const second = xeroDelivery(t.webhookKey, [{ resourceId: late.InvoiceID, tenantId: t.xeroTenantId }]);
      const res2 = await pipeline.call("POST", t.webhookPath, {
        body: second.body,
        headers: { "x-xero-signature": second.signature },
      });
      const lateJobId = (res2.json.jobIds as string[])[0]!;

      const exit = await worker.exited;
      expect(exit).toEqual({ code: 0, signal: null });
      const job = await pipeline.db.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
      expect(job.status).toBe("COMPLETED");
      expect(job.attempts).toBe(1);
      expect((await pipeline.db.prisma.job.findUniqueOrThrow({ where: { id: lateJobId } })).status).toBe(
        "QUEUED",
      );
      expect(worker.output()).toContain("(draining) stopped");
    } finally {
      pipeline.xero.setLatency(0);
      if (worker.child.exitCode === null) worker.child.kill("SIGKILL");
    }
  });

  it("refuses to start with a clear message naming each bad variable", async () => {
    const worker = spawnWorker(pipeline, {
      DATABASE_URL: "",
      ZIXLY_ENCRYPTION_KEY: "",
      WORKER_CONCURRENCY: "many",
    });
    const exit = await worker.exited;
    expect(exit.code).toBe(78);
    expect(worker.output()).toMatch(/DATABASE_URL: is required/);
    expect(worker.output()).toMatch(/ZIXLY_ENCRYPTION_KEY: is required/);
    expect(worker.output()).toMatch(/WORKER_CONCURRENCY/);
  });
});
