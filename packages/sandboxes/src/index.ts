/**
 * @module @zixly/sandboxes
 * Local stand-ins for the vendors' HTTP APIs (Xero, HubSpot, Shopify, Asana) for tests and local
 * demo runs.
 * They answer in the shapes the vendors document, check bearer tokens, log every request and
 * fail on demand. They are not the vendors: see `docs/connectors.md` for what they leave out.
 *
 * @example
 * ```ts
 * import { createHubspotSandbox, createXeroSandbox, XERO_SANDBOX_DEFAULTS } from "@zixly/sandboxes";
 *
 * const xero = await createXeroSandbox();
 * const invoice = xero.addInvoice({ Status: "PAID", Contact: { EmailAddress: "ana@example.com" } });
 * const hubspot = await createHubspotSandbox();
 * hubspot.failNext({ status: 429 }); // the next HubSpot call is rate limited
 * // … point XERO_API_BASE_URL at xero.url and HUBSPOT_API_BASE_URL at hubspot.url …
 * hubspot.count("PATCH", "/crm/v3/objects/contacts/:id");
 * await Promise.all([xero.close(), hubspot.close()]);
 * ```
 */
export {
  ASANA_SANDBOX_DEFAULTS,
  type AsanaCompact,
  type AsanaSandbox,
  type AsanaSandboxOptions,
  type AsanaSandboxState,
  type AsanaSandboxWorkspace,
  type AsanaWireJob,
  type AsanaWireProject,
  type AsanaWireStory,
  type AsanaWireTask,
  type AsanaWireTemplate,
  createAsanaSandbox,
} from "./asana-sandbox.js";
export {
  type FailureSpec,
  matchesPath,
  type RecordedRequest,
  type RunningServer,
  type SandboxControls,
} from "./http-fixture.js";
export {
  createHubspotSandbox,
  HUBSPOT_SANDBOX_DEFAULTS,
  type HubspotAssociation,
  type HubspotContactRecord,
  type HubspotObjectRecord,
  type HubspotObjectType,
  type HubspotSandbox,
  type HubspotSandboxOptions,
  type HubspotSandboxState,
  type HubspotWireContact,
} from "./hubspot-sandbox.js";
export {
  createShopifySandbox,
  SHOPIFY_SANDBOX_DEFAULTS,
  type ShopifyLineItemSeed,
  type ShopifyOrderSeed,
  type ShopifySandbox,
  type ShopifySandboxOptions,
  type ShopifySandboxState,
  type ShopifyWireCustomer,
  type ShopifyWireLineItem,
  type ShopifyWireOrder,
  type ShopifyWireShippingLine,
  type ShopifyWireTaxLine,
} from "./shopify-sandbox.js";
export {
  XERO_SANDBOX_TAX_RATES,
  type XeroContactSeed,
  type XeroDateInput,
  type XeroInvoiceSeed,
  type XeroInvoiceStatus,
  type XeroWireContact,
  type XeroWireInvoice,
  type XeroWireLineItem,
  type XeroWirePayment,
  xeroMsDate,
} from "./xero-model.js";
export {
  createXeroSandbox,
  XERO_SANDBOX_DEFAULTS,
  type XeroSandbox,
  type XeroSandboxOptions,
  type XeroSandboxState,
  type XeroSandboxTenant,
} from "./xero-sandbox.js";
export { type SignedDelivery, signedXeroInvoiceDelivery } from "./xero-webhook.js";
