import { Writable } from "node:stream";
import { XERO_SANDBOX_DEFAULTS } from "@zixly/sandboxes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Pipeline, startPipeline, xeroDelivery } from "./harness.js";

const logLines: string[] = [];
let pipeline: Pipeline;
beforeAll(async () => {
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  pipeline = await startPipeline({ concurrency: 1, logStream });
});
afterAll(async () => {
  await pipeline?.close();
});

const soon = () => new Date(Date.now() + 60_000).toISOString(); // inside the 5-minute refresh margin

async function deliver(t: Awaited<ReturnType<Pipeline["setupTenant"]>>, status = "AUTHORISED") {
  const invoice = pipeline.xero.addInvoice({
    Status: status,
    Contact: { EmailAddress: "planted-person@example.com" },
  });
  const { body, signature } = xeroDelivery(t.webhookKey, [
    { resourceId: invoice.InvoiceID, tenantId: t.xeroTenantId },
  ]);
  const res = await pipeline.call("POST", t.webhookPath, {
    body,
    headers: { "x-xero-signature": signature },
  });
  expect(res.status).toBe(202);
  return { jobId: (res.json.jobIds as string[])[0]!, invoice };
}

describe("credential vault", () => {
  it("refreshes an expiring Xero token once when two workers race, and both jobs use the new token", async () => {
    const refreshToken = "planted-refresh-token-race";
    pipeline.xero.state.refreshTokens.set(refreshToken, { scope: "accounting.transactions", usedAt: null });
    const t = await pipeline.setupTenant("Race", {
      xero: { accessToken: XERO_SANDBOX_DEFAULTS.accessToken, refreshToken, expiresAt: soon() },
    });
    await pipeline.startExtraWorker(1); // two workers, one slot each
    const refreshesBefore = pipeline.xero.count("POST", "/connect/token");
    pipeline.xero.setLatency(300); // keep both jobs in flight together
    const [a, b] = await Promise.all([deliver(t), deliver(t)]);
    const done = await Promise.all(
      [a, b].map((d) =>
        pipeline.waitForJob(t.apiKey, d.jobId, (j) => j.status === "COMPLETED" || j.status === "FAILED"),
      ),
    );
    pipeline.xero.setLatency(0);
    expect(done.map((j) => j.status)).toEqual(["COMPLETED", "COMPLETED"]);
    expect(pipeline.xero.count("POST", "/connect/token") - refreshesBefore).toBe(1);
    const invoiceCalls = pipeline.xero.requests.filter(
      (r) => r.path.includes(a.invoice.InvoiceID) || r.path.includes(b.invoice.InvoiceID),
    );
    const tokensUsed = new Set(invoiceCalls.map((r) => r.headers.authorization));
    expect(tokensUsed.size).toBe(1);
    expect([...tokensUsed][0]).not.toBe(`Bearer ${XERO_SANDBOX_DEFAULTS.accessToken}`);

    const row = await pipeline.db.prisma.connection.findFirstOrThrow({
      where: { tenantId: t.tenantId, provider: "xero" },
    });
    expect(row.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 10 * 60_000);
    expect(row.credentialsCiphertext).not.toContain("xero-sbx-");
    expect(row.credentialsCiphertext).not.toContain(refreshToken);
  });

  it("marks the connection NEEDS_REAUTH on invalid_grant and fails the job at once with a clear message", async () => {
    const t = await pipeline.setupTenant("Revoked", {
      xero: {
        accessToken: "planted-expired-access",
        refreshToken: "planted-revoked-refresh",
        expiresAt: soon(),
      },
    });
    const { jobId } = await deliver(t);
    const job = await pipeline.waitForJob(t.apiKey, jobId, (j) => j.status === "FAILED");
    expect(job.attempts).toBe(1);
    expect((job.error as { message: string }).message).toMatch(/needs to be re-authorised.*Reconnect/);
    const conn = await pipeline.call("GET", "/api/connections", { token: t.apiKey });
    const xero = (conn.json.connections as Array<{ provider: string; status: string }>).find(
      (c) => c.provider === "xero",
    );
    expect(xero?.status).toBe("NEEDS_REAUTH");
    expect(JSON.stringify(conn.json)).not.toContain("planted");
  });

  it("waits out a 429's Retry-After without calling the vendor meanwhile, then succeeds", async () => {
    const t = await pipeline.setupTenant("Limited");
    pipeline.xero.failNext({
      status: 429,
      headers: { "Retry-After": "2" },
      route: "GET /api.xro/2.0/Invoices/:id",
    });
    const { jobId, invoice } = await deliver(t);
    const job = await pipeline.waitForJob(
      t.apiKey,
      jobId,
      (j) => j.status === "COMPLETED" || j.status === "FAILED",
      20_000,
    );
    expect(job.status).toBe("COMPLETED");
    const calls = pipeline.xero.requests
      .filter((r) => r.path.endsWith(invoice.InvoiceID))
      .map((r) => r.time.getTime());
    expect(calls).toHaveLength(2);
    expect(calls[1]! - calls[0]!).toBeGreaterThanOrEqual(1_900);
  });

  it("never writes tokens, signatures, keys or emails to the logs", async () => {
    const out = logLines.join("");
    expect(out.length).toBeGreaterThan(1_000);
    expect(out).toContain("job completed");
    for (const planted of [
      "planted-refresh-token-race",
      "planted-revoked-refresh",
      "planted-expired-access",
      "planted-person@example.com",
      "xero-sbx-",
      XERO_SANDBOX_DEFAULTS.accessToken,
    ]) {
      expect(out).not.toContain(planted);
    }
    // A request id follows an event from the receiver into its job's log lines.
    const accepted = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === "webhook accepted");
    const requestId = accepted?.requestId as string;
    expect(requestId).toBeTruthy();
    expect(logLines.some((l) => l.includes('"msg":"job started"') && l.includes(requestId))).toBe(true);
  });
});
