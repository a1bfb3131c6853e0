#!/usr/bin/env node
/**
 * Start the Xero and HubSpot sandboxes on fixed ports for local demo runs, seeded with one PAID
 * and one AUTHORISED invoice, and print what to put in `.env`.
 *
 * Environment: `XERO_SANDBOX_PORT` (default 4010), `HUBSPOT_SANDBOX_PORT` (default 4020),
 * `SANDBOX_HOST` (default 127.0.0.1). Stops on SIGINT / SIGTERM.
 */
import { createHubspotSandbox, HUBSPOT_SANDBOX_DEFAULTS } from "./hubspot-sandbox.js";
import { createXeroSandbox, XERO_SANDBOX_DEFAULTS } from "./xero-sandbox.js";

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65_535)
    throw new Error(`${name} must be a port number, got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  const host = process.env.SANDBOX_HOST || "127.0.0.1";
  const xero = await createXeroSandbox({ host, port: port("XERO_SANDBOX_PORT", 4010) });
  const hubspot = await createHubspotSandbox({ host, port: port("HUBSPOT_SANDBOX_PORT", 4020) });

  // Fixed ids, so a demo script can name them in a webhook payload.
  const paid = xero.addInvoice({
    InvoiceID: "8b1f4a5e-0c1d-4e7a-9f00-000000000001",
    Status: "PAID",
    Total: 1_250,
    Reference: "Sandbox order 1001",
    Contact: { Name: "Ana Lima", FirstName: "Ana", LastName: "Lima", EmailAddress: "ana.lima@example.com" },
  });
  const open = xero.addInvoice({
    InvoiceID: "8b1f4a5e-0c1d-4e7a-9f00-000000000002",
    Status: "AUTHORISED",
    Total: 480,
    Reference: "Sandbox order 1002",
    Contact: {
      Name: "Ben Okafor",
      FirstName: "Ben",
      LastName: "Okafor",
      EmailAddress: "ben.okafor@example.com",
    },
  });

  const lines = [
    "Sandboxes running (local stand-ins, not the vendors):",
    `  Xero     ${xero.url}   (API /api.xro/2.0/…, identity /connect/token)`,
    `  HubSpot  ${hubspot.url}   (CRM /crm/v3/objects/contacts…)`,
    "",
    "Environment for a demo run:",
    `  XERO_API_BASE_URL=${xero.url}`,
    `  XERO_IDENTITY_URL=${xero.url}`,
    `  HUBSPOT_API_BASE_URL=${hubspot.url}`,
    "",
    "Credentials:",
    `  Xero tenant id        ${XERO_SANDBOX_DEFAULTS.tenantId}`,
    `  Xero access token     ${XERO_SANDBOX_DEFAULTS.accessToken}`,
    `  Xero refresh token    ${XERO_SANDBOX_DEFAULTS.refreshToken} (single use)`,
    `  Xero client id/secret ${XERO_SANDBOX_DEFAULTS.clientId} / ${XERO_SANDBOX_DEFAULTS.clientSecret}`,
    `  HubSpot access token  ${HUBSPOT_SANDBOX_DEFAULTS.accessToken}`,
    "",
    "Seeded invoices:",
    `  PAID        ${paid.InvoiceID}  ${paid.InvoiceNumber}  ${paid.Contact.EmailAddress}`,
    `  AUTHORISED  ${open.InvoiceID}  ${open.InvoiceNumber}  ${open.Contact.EmailAddress}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  const stop = () => {
    void Promise.all([xero.close(), hubspot.close()]).then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
