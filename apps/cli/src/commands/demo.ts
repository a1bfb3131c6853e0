import { randomBytes } from "node:crypto";
import {
  createHubspotSandbox,
  createXeroSandbox,
  HUBSPOT_SANDBOX_DEFAULTS,
  signedXeroInvoiceDelivery,
  XERO_SANDBOX_DEFAULTS,
} from "@zixly/sandboxes";
import { api } from "../api-client.js";
import type { CliIo } from "../io.js";
import { progress } from "../progress.js";
import { startLocalPipeline, untilSignal } from "./pipeline.js";

export interface DemoOptions {
  /** Stop everything and return once the demo's jobs finished (tests, CI). */
  exit: boolean;
  timeoutMs?: number;
  /** Where a relative `ZIXLY_DATA_DIR` (embedded mode) is resolved. Default `process.cwd()`. */
  cwd?: string;
}

/**
 * `zixly demo`: starts the Xero and HubSpot sandboxes and the pipeline, creates a demo tenant,
 * a Xero endpoint and connections, sends signed webhooks for a paid and an unpaid invoice,
 * waits for their jobs and prints where to look. Returns the jobs' final statuses.
 */
export async function runDemo(
  env: NodeJS.ProcessEnv,
  io: CliIo,
  options: DemoOptions,
): Promise<Record<string, string>> {
  const xero = await createXeroSandbox();
  const hubspot = await createHubspotSandbox();
  const pipeline = await startLocalPipeline(
    {
      ...env,
      XERO_API_BASE_URL: xero.url,
      HUBSPOT_API_BASE_URL: hubspot.url,
      API_RATE_LIMIT_PER_MINUTE: "0",
    },
    io,
    { ...(options.cwd ? { cwd: options.cwd } : {}) },
  );
  const stopAll = async () => {
    await pipeline.stop();
    await Promise.all([xero.close(), hubspot.close()]);
  };
  try {
    const base = pipeline.receiver.url;
    const admin = { url: base, token: env.ZIXLY_ADMIN_TOKEN };
    const tenant = await api<{ id: string; apiKey: string }>(admin, "POST", "/api/tenants", {
      name: `Demo ${new Date().toISOString()}`,
    });
    const key = { url: base, token: tenant.apiKey };
    const webhookKey = randomBytes(32).toString("base64");
    const endpoint = await api<{ id: string; url: string }>(key, "POST", "/api/endpoints", {
      source: "xero",
      name: "Xero (sandbox)",
      secret: webhookKey,
    });
    await api(key, "POST", "/api/connections", {
      provider: "xero",
      name: "Xero sandbox",
      externalAccountId: XERO_SANDBOX_DEFAULTS.tenantId,
      credentials: { accessToken: XERO_SANDBOX_DEFAULTS.accessToken },
    });
    await api(key, "POST", "/api/connections", {
      provider: "hubspot",
      name: "HubSpot sandbox",
      externalAccountId: "demo-portal",
      credentials: { accessToken: HUBSPOT_SANDBOX_DEFAULTS.accessToken },
    });

    const paid = xero.addInvoice({
      Status: "PAID",
      Contact: { EmailAddress: "accounts@ridgeway.example", FirstName: "Ana", LastName: "Reid" },
    });
    const unpaid = xero.addInvoice({ Status: "AUTHORISED" });
    const jobIds: string[] = [];
    for (const invoice of [paid, unpaid]) {
      const delivery = signedXeroInvoiceDelivery({
        invoiceId: invoice.InvoiceID,
        xeroTenantId: XERO_SANDBOX_DEFAULTS.tenantId,
        webhookKey,
      });
      const res = await fetch(endpoint.url.replace(/^https?:\/\/[^/]+/, base), {
        method: "POST",
        headers: delivery.headers,
        body: delivery.body,
      });
      const accepted = (await res.json()) as { jobIds: string[] };
      jobIds.push(...accepted.jobIds);
    }

    const bar = progress(io, "demo jobs", jobIds.length);
    const statuses: Record<string, string> = {};
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (Object.keys(statuses).length < jobIds.length && Date.now() < deadline) {
      for (const id of jobIds) {
        if (statuses[id]) continue;
        const job = await api<{ status: string }>(key, "GET", `/api/jobs/${id}`);
        if (["COMPLETED", "FAILED", "CANCELLED"].includes(job.status)) {
          statuses[id] = job.status;
          bar.tick();
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    bar.finish();

    io.out("");
    io.out("Zixly demo is running.");
    io.out(`  API key (shown once):  ${tenant.apiKey}`);
    io.out(`  Xero endpoint:         ${endpoint.url}`);
    io.out(`  Xero webhook key:      ${webhookKey}`);
    for (const id of jobIds) {
      io.out(
        `  job ${id}: ${statuses[id] ?? "not finished"}  curl -s ${base}/api/jobs/${id} -H "Authorization: Bearer $ZIXLY_API_KEY"`,
      );
    }
    io.out(
      `  metrics:               ${base}/metrics  and  http://127.0.0.1:${pipeline.worker.metricsPort}/metrics`,
    );
    io.out(`  sandboxes:             Xero ${xero.url}  HubSpot ${hubspot.url}`);
    if (!options.exit) {
      io.out("Press Ctrl-C to stop.");
      await untilSignal();
    }
    return statuses;
  } finally {
    await stopAll();
  }
}
