#!/usr/bin/env node
/**
 * Start the Xero, HubSpot, Shopify and Asana sandboxes on fixed ports for local demo runs,
 * seeded with one PAID and one AUTHORISED invoice, a deal, a paid Shopify order and an Asana
 * onboarding template, and print what to put in `.env`.
 *
 * Environment: `XERO_SANDBOX_PORT` (default 4010), `HUBSPOT_SANDBOX_PORT` (default 4020),
 * `SHOPIFY_SANDBOX_PORT` (default 4030), `ASANA_SANDBOX_PORT` (default 4040), `SANDBOX_HOST`
 * (default 127.0.0.1). Stops on SIGINT / SIGTERM.
 */
import { ASANA_SANDBOX_DEFAULTS, createAsanaSandbox } from "./asana-sandbox.js";
import { createHubspotSandbox, HUBSPOT_SANDBOX_DEFAULTS } from "./hubspot-sandbox.js";
import { createShopifySandbox, SHOPIFY_SANDBOX_DEFAULTS } from "./shopify-sandbox.js";
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
  const shopify = await createShopifySandbox({ host, port: port("SHOPIFY_SANDBOX_PORT", 4030) });
  const asana = await createAsanaSandbox({ host, port: port("ASANA_SANDBOX_PORT", 4040) });

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

  const ana = hubspot.addContact({ email: "ana.lima@example.com", firstname: "Ana", lastname: "Lima" });
  const deal = hubspot.addDeal(
    { dealname: "Ana Lima: onboarding", dealstage: "appointmentscheduled", amount: "1250" },
    { contactIds: [ana.id] },
  );
  const order = shopify.addOrder({
    id: 450_789_469,
    email: "ben.okafor@example.com",
    customer: { firstName: "Ben", lastName: "Okafor" },
    lineItems: [
      {
        title: "Ceramic mug",
        sku: "MUG-01",
        price: 20,
        quantity: 2,
        taxLines: [{ title: "GST", rate: 0.1 }],
      },
    ],
  });
  const template = asana.addTemplate({
    name: "Client onboarding",
    taskNames: ["Kick-off call", "Collect access details", "Go-live review"],
  });

  const lines = [
    "Sandboxes running (local stand-ins, not the vendors):",
    `  Xero     ${xero.url}   (API /api.xro/2.0/…, identity /connect/token)`,
    `  HubSpot  ${hubspot.url}   (CRM /crm/v3/objects/{contacts,deals,notes}…)`,
    `  Shopify  ${shopify.url}   (Admin REST /admin/api/<version>/orders/<id>.json)`,
    `  Asana    ${asana.url}   (API /api/1.0/…)`,
    "",
    "Environment for a demo run:",
    `  XERO_API_BASE_URL=${xero.url}`,
    `  XERO_IDENTITY_URL=${xero.url}`,
    `  HUBSPOT_API_BASE_URL=${hubspot.url}`,
    `  SHOPIFY_API_BASE_URL=${shopify.url}`,
    `  ASANA_API_BASE_URL=${asana.url}`,
    "",
    "Credentials:",
    `  Xero tenant id        ${XERO_SANDBOX_DEFAULTS.tenantId}`,
    `  Xero access token     ${XERO_SANDBOX_DEFAULTS.accessToken}`,
    `  Xero refresh token    ${XERO_SANDBOX_DEFAULTS.refreshToken} (single use)`,
    `  Xero client id/secret ${XERO_SANDBOX_DEFAULTS.clientId} / ${XERO_SANDBOX_DEFAULTS.clientSecret}`,
    `  HubSpot access token  ${HUBSPOT_SANDBOX_DEFAULTS.accessToken}`,
    `  Shopify shop / token  ${SHOPIFY_SANDBOX_DEFAULTS.shop} / ${SHOPIFY_SANDBOX_DEFAULTS.accessToken}`,
    `  Asana workspace gid   ${ASANA_SANDBOX_DEFAULTS.workspaceGid} (team ${ASANA_SANDBOX_DEFAULTS.teamGid})`,
    `  Asana access token    ${ASANA_SANDBOX_DEFAULTS.accessToken}`,
    "",
    "Seeded records:",
    `  Xero PAID        ${paid.InvoiceID}  ${paid.InvoiceNumber}  ${paid.Contact.EmailAddress}`,
    `  Xero AUTHORISED  ${open.InvoiceID}  ${open.InvoiceNumber}  ${open.Contact.EmailAddress}`,
    `  HubSpot deal     ${deal.id} (contact ${ana.id})`,
    `  Shopify order    ${order.id}  ${order.name}  ${order.email ?? ""}`,
    `  Asana template   ${template.gid}  ${template.name}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  const stop = () => {
    void Promise.all([xero.close(), hubspot.close(), shopify.close(), asana.close()]).then(() =>
      process.exit(0),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
