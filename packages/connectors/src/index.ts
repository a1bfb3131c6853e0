/**
 * @module @zixly/connectors
 * Typed vendor operations over the vendors' official SDKs (`xero-node`, `@hubspot/api-client`,
 * `@shopify/shopify-api`, `asana`) — one function per operation — with
 * failures mapped at the boundary to the errors that steer retries (`@zixly/core`):
 * 4xx except 408/429 → `NonRetriableError`, 429 → `RetryAfterError`, 5xx / 408 / network →
 * plain `Error`. Messages never carry credentials.
 *
 * @example
 * ```ts
 * import { type ConnectorCall, createHubspotConnector, createXeroConnector } from "@zixly/connectors";
 *
 * const onCall = (c: ConnectorCall) => metrics.observe(c.connector, c.operation, c.status, c.durationMs);
 * const xero = createXeroConnector({ accessToken, xeroTenantId, apiBaseUrl: env.XERO_API_BASE_URL, onCall });
 * const hubspot = createHubspotConnector({ accessToken: hubspotToken, apiBaseUrl: env.HUBSPOT_API_BASE_URL, onCall });
 *
 * const invoice = await xero.getInvoice(invoiceId);
 * if (invoice.status === "PAID" && invoice.contact.email) {
 *   await hubspot.upsertContactByEmail({ email: invoice.contact.email, properties: { firstname: invoice.contact.firstName ?? "" } });
 * }
 * ```
 */
export {
  type AsanaConnector,
  type AsanaConnectorOptions,
  type AsanaJob,
  type AsanaProject,
  type AsanaProjectTemplate,
  type AsanaRef,
  type AsanaStory,
  type AsanaTask,
  createAsanaConnector,
  DEFAULT_ASANA_API_BASE_URL,
} from "./asana.js";
export {
  type ConnectorCall,
  DEFAULT_CALL_TIMEOUT_MS,
  type OnConnectorCall,
} from "./connector-call.js";
export {
  type ConnectorName,
  DEFAULT_RETRY_AFTER_MS,
  parseRetryAfter,
  toConnectorError,
  type VendorFailure,
} from "./http-error.js";
export {
  createHubspotConnector,
  DEFAULT_DEAL_PROPERTIES,
  DEFAULT_HUBSPOT_API_BASE_URL,
  HUBSPOT_ASSOCIATION_TYPES,
  type HubspotConnector,
  type HubspotConnectorOptions,
  type HubspotContact,
  type HubspotDeal,
  type HubspotNote,
  type HubspotNoteInput,
} from "./hubspot.js";
export {
  createShopifyConnector,
  DEFAULT_SHOPIFY_API_VERSION,
  type ShopifyConnector,
  type ShopifyConnectorOptions,
  type ShopifyCustomer,
  type ShopifyLineItem,
  type ShopifyOrder,
  type ShopifyShippingLine,
  type ShopifyTaxLine,
  shopifyBucketWaitMs,
} from "./shopify.js";
export {
  createXeroConnector,
  DEFAULT_XERO_API_BASE_URL,
  type XeroConnector,
  type XeroConnectorOptions,
  type XeroContact,
  type XeroInvoice,
  type XeroNewContact,
  type XeroNewInvoice,
  type XeroNewLineItem,
  type XeroWriteOptions,
} from "./xero.js";
