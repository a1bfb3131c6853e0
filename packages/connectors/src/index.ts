/**
 * @module @zixly/connectors
 * Typed vendor operations over the vendors' official SDKs — one function per operation — with
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
  DEFAULT_HUBSPOT_API_BASE_URL,
  type HubspotConnector,
  type HubspotConnectorOptions,
  type HubspotContact,
} from "./hubspot.js";
export {
  createXeroConnector,
  DEFAULT_XERO_API_BASE_URL,
  type XeroConnector,
  type XeroConnectorOptions,
  type XeroContact,
  type XeroInvoice,
} from "./xero.js";
