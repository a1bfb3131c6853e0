// The SDK reaches the network through process-wide "adapter" functions; this import installs
// Node's (global `fetch`). Without it every call throws "Missing adapter implementation".
import "@shopify/shopify-api/adapters/node";
import { ApiVersion, LogSeverity, Session, shopifyApi } from "@shopify/shopify-api";
import { NonRetriableError } from "@zixly/core";
import { createCallRunner, type OnConnectorCall } from "./connector-call.js";
import type { VendorFailure } from "./http-error.js";

/** The Admin API version the connector asks for unless told otherwise. */
export const DEFAULT_SHOPIFY_API_VERSION: string = ApiVersion.July26;

/** A tax line of an order, a line item or a shipping line. Money is a number in the order's currency. */
export interface ShopifyTaxLine {
  title: string;
  /** 0.1 for 10 %. */
  rate: number;
  price: number;
}

/** One product line of an order. */
export interface ShopifyLineItem {
  id: string;
  title: string;
  quantity: number;
  /** Unit price (tax included when the order's `taxesIncluded` is true). */
  price: number;
  sku: string | null;
  /** Discounts allocated to this line, in total (not per unit). */
  totalDiscount: number;
  taxLines: ShopifyTaxLine[];
}

/** A shipping charge of an order. */
export interface ShopifyShippingLine {
  title: string;
  price: number;
  taxLines: ShopifyTaxLine[];
}

/** The order's customer, as far as the order names one. */
export interface ShopifyCustomer {
  id: string | null;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
}

/** A Shopify order, flattened to what workflows use. Shopify's decimal strings become numbers. */
export interface ShopifyOrder {
  /** The numeric order id, as a string (ids exceed 2^53). */
  id: string;
  /** The shop-facing name, e.g. `#1001`. */
  name: string;
  email: string | null;
  currency: string;
  totalPrice: number;
  subtotalPrice: number;
  totalTax: number;
  totalDiscounts: number;
  /** Whether line prices include tax. */
  taxesIncluded: boolean;
  /** `pending`, `authorized`, `partially_paid`, `paid`, `partially_refunded`, `refunded`, `voided`. */
  financialStatus: string | null;
  /** ISO 8601 with the shop's offset, as Shopify sends it. */
  createdAt: string;
  lineItems: ShopifyLineItem[];
  shippingLines: ShopifyShippingLine[];
  customer: ShopifyCustomer | null;
}

/** Typed operations on one shop's Admin API, over the official `@shopify/shopify-api` SDK. */
export interface ShopifyConnector {
  /**
   * `GET /admin/api/<version>/orders/{orderId}.json`. Takes the numeric id or its GraphQL gid
   * (`gid://shopify/Order/123`).
   * @throws NonRetriableError for an unknown order (404) or rejected credentials (401/403)
   * @throws RetryAfterError when Shopify throttles (429)
   */
  getOrder(orderId: string): Promise<ShopifyOrder>;
}

export interface ShopifyConnectorOptions {
  /** Admin API access token (an OAuth offline token, or a custom app's Admin API token). */
  accessToken: string;
  /** The shop's `*.myshopify.com` domain (the connection's `externalAccountId`). */
  shop: string;
  /**
   * Stands for `https://<shop>` (`SHOPIFY_API_BASE_URL`): only the origin changes, the SDK
   * appends `/admin/api/<version>/...` as Shopify documents it. Unset = the shop itself.
   */
  apiBaseUrl?: string;
  /** Admin API version, e.g. `2026-07` (default {@link DEFAULT_SHOPIFY_API_VERSION}). */
  apiVersion?: string;
  /** Reports every operation (latency, outcome) for metrics. */
  onCall?: OnConnectorCall;
  /** Per-call timeout. Default 30 s; a timeout is a retryable error. */
  timeoutMs?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  if (typeof value === "string") return value === "" ? null : value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return null;
}

/** Shopify sends money as decimal strings (`"199.00"`); the SDK's parser may hand numbers. */
function money(value: unknown): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  return Number.isFinite(n) ? n : 0;
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function mapTaxLines(value: unknown): ShopifyTaxLine[] {
  return list(value).map((t) => ({
    title: text(t.title) ?? "Tax",
    rate: money(t.rate),
    price: money(t.price),
  }));
}

function mapLineItem(item: Record<string, unknown>): ShopifyLineItem {
  const allocations = list(item.discount_allocations);
  const allocated = allocations.reduce((sum, a) => sum + money(a.amount), 0);
  return {
    id: text(item.id) ?? "",
    title: text(item.title) ?? text(item.name) ?? "Item",
    quantity: money(item.quantity),
    price: money(item.price),
    sku: text(item.sku),
    totalDiscount: allocations.length > 0 ? Math.round(allocated * 100) / 100 : money(item.total_discount),
    taxLines: mapTaxLines(item.tax_lines),
  };
}

function mapOrder(order: Record<string, unknown>, requestedId: string): ShopifyOrder {
  const customer = isRecord(order.customer) ? order.customer : undefined;
  return {
    id: text(order.id) ?? requestedId,
    name: text(order.name) ?? `#${text(order.order_number) ?? requestedId}`,
    email: text(order.email) ?? text(order.contact_email) ?? (customer ? text(customer.email) : null),
    currency: text(order.currency) ?? "",
    totalPrice: money(order.total_price),
    subtotalPrice: money(order.subtotal_price),
    totalTax: money(order.total_tax),
    totalDiscounts: money(order.total_discounts),
    taxesIncluded: order.taxes_included === true,
    financialStatus: text(order.financial_status),
    createdAt: text(order.created_at) ?? "",
    lineItems: list(order.line_items).map(mapLineItem),
    shippingLines: list(order.shipping_lines).map((s) => ({
      title: text(s.title) ?? "Shipping",
      price: money(s.price),
      taxLines: mapTaxLines(s.tax_lines),
    })),
    customer: customer
      ? {
          id: text(customer.id),
          firstName: text(customer.first_name),
          lastName: text(customer.last_name),
          email: text(customer.email),
        }
      : null,
  };
}

/** Response headers as a lower-case map (the SDK canonicalises names and may hold arrays). */
function headerMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === "string" || typeof v === "number") out[name.toLowerCase()] = String(v);
    else if (Array.isArray(v)) out[name.toLowerCase()] = v.map(String).join(", ");
  }
  return out;
}

/** Shopify's words: `{"errors": "Not Found"}` or `{"errors": {"field": ["is invalid"]}}`. */
function shopifyDetail(body: unknown): string | undefined {
  if (typeof body === "string") return body;
  if (!isRecord(body)) return undefined;
  const errors = body.errors ?? body.error;
  if (typeof errors === "string") return errors;
  if (Array.isArray(errors)) return errors.map(String).join("; ");
  if (isRecord(errors)) {
    return Object.entries(errors)
      .map(([field, v]) => `${field} ${Array.isArray(v) ? v.map(String).join(", ") : String(v)}`)
      .join("; ");
  }
  return JSON.stringify(body);
}

/**
 * When Shopify sends no `Retry-After`, the leaky bucket (`X-Shopify-Shop-Api-Call-Limit: 40/40`)
 * tells how long until a request fits again: the bucket leaks `max / 20` calls a second (2/s for
 * 40, 4/s for 80). At least one second.
 */
export function shopifyBucketWaitMs(callLimit: string | undefined): number | undefined {
  const match = callLimit ? /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(callLimit) : null;
  if (!match) return undefined;
  const used = Number(match[1]);
  const max = Number(match[2]);
  if (max <= 0) return undefined;
  const leakPerSecond = max / 20;
  const over = Math.max(1, used - max + 1);
  return Math.max(1_000, Math.ceil((over / leakPerSecond) * 1_000));
}

/**
 * What the SDK throws: `HttpResponseError` and its subclasses (`HttpThrottlingError` for 429,
 * `HttpInternalError` for 5xx) with `response: { code, statusText, body, headers }`; a plain
 * `Error` (`Admin API Client: fetch failed`) when no response came back; and a `SyntaxError`
 * from its JSON parser when a response arrived with a body that is not JSON (the status is lost).
 */
function describeShopifyError(operation: string, err: unknown): VendorFailure {
  const failure: VendorFailure = { connector: "shopify", operation };
  const candidate: unknown = err instanceof Error ? (err as { response?: unknown }).response : undefined;
  const response = isRecord(candidate) ? candidate : undefined;
  if (response && typeof response.code === "number" && response.code > 0) {
    failure.httpStatus = response.code;
    const headers = headerMap(response.headers);
    failure.headers = headers;
    let detail = shopifyDetail(response.body);
    if (response.code === 429) {
      const bucket = headers["x-shopify-shop-api-call-limit"];
      const hint = shopifyBucketWaitMs(bucket);
      if (hint !== undefined) failure.retryAfterMs = hint;
      const limit = bucket ? `throttled (call limit ${bucket})` : "throttled";
      detail = detail ? `${limit}: ${detail}` : limit;
    }
    if (detail !== undefined) failure.detail = detail;
    return failure;
  }
  if (err instanceof SyntaxError) {
    // A response came, but not JSON (a proxy's HTML error page): treated as a vendor outage.
    failure.detail = `unreadable response body (${err.message})`;
    return failure;
  }
  failure.detail = err instanceof Error ? err.message : String(err);
  return failure;
}

/** `123`, or the number in `gid://shopify/Order/123`; anything else would change the path. */
function orderIdOf(orderId: string): string | undefined {
  const trimmed = typeof orderId === "string" ? orderId.trim() : "";
  const match = /^(?:gid:\/\/shopify\/Order\/)?(\d+)$/.exec(trimmed);
  return match?.[1];
}

/** Where the SDK should send requests: the shop, or the origin standing in for it. */
function target(options: ShopifyConnectorOptions): { scheme: "http" | "https"; storeDomain: string } {
  if (options.apiBaseUrl === undefined || options.apiBaseUrl === "") {
    return { scheme: "https", storeDomain: options.shop.trim().toLowerCase() };
  }
  const base = new URL(options.apiBaseUrl);
  if (base.pathname.replace(/\/+$/, "") !== "") {
    throw new Error(
      "createShopifyConnector: apiBaseUrl stands for https://<shop> (origin only); drop the path from it",
    );
  }
  return { scheme: base.protocol === "http:" ? "http" : "https", storeDomain: base.host };
}

/**
 * A {@link ShopifyConnector} over `@shopify/shopify-api`'s Admin REST client, given a ready
 * access token, with the SDK's own retries off (retrying is the queue's job, steered by the
 * errors this connector throws, see {@link toConnectorError}).
 *
 * The SDK builds `https://<shop>/admin/api/<version>/...` from the session's shop. To reach a
 * stand-in (`apiBaseUrl`), the connector gives the SDK the stand-in's `host:port` as the shop
 * and its scheme as the config's `hostScheme`, which the REST client also uses for the shop's
 * URL; the path stays as Shopify documents it.
 *
 * @example
 * ```ts
 * const shopify = createShopifyConnector({ accessToken, shop: "example.myshopify.com" });
 * const order = await shopify.getOrder("450789469");
 * console.log(order.name, order.totalPrice, order.customer?.email);
 * ```
 */
export function createShopifyConnector(options: ShopifyConnectorOptions): ShopifyConnector {
  if (!options.accessToken) throw new NonRetriableError("createShopifyConnector: accessToken is required");
  if (!options.shop || options.shop.trim() === "")
    throw new NonRetriableError("createShopifyConnector: shop is required");
  const { scheme, storeDomain } = target(options);
  const shopify = shopifyApi({
    // The Admin API client sends only the access token: the app's key, secret and host name are
    // for OAuth and webhooks, which this connector does not do. The SDK insists on values.
    apiKey: "zixly-connector",
    apiSecretKey: "zixly-connector-unused",
    hostName: "zixly.invalid",
    hostScheme: scheme,
    apiVersion: (options.apiVersion ?? DEFAULT_SHOPIFY_API_VERSION) as ApiVersion,
    isEmbeddedApp: false,
    // The SDK logs its version on start and deprecation notices through this; errors reach us
    // as exceptions, so nothing here needs printing.
    logger: { log: () => {}, level: LogSeverity.Error, httpRequests: false },
  });
  if (options.apiBaseUrl === undefined || options.apiBaseUrl === "") {
    // Only a *.myshopify.com domain reaches the Admin API; refuse anything else up front.
    if (!shopify.utils.sanitizeShop(storeDomain)) {
      throw new NonRetriableError(`createShopifyConnector: "${options.shop}" is not a myshopify.com domain`);
    }
  }
  const session = new Session({
    id: `offline_${options.shop}`,
    shop: storeDomain,
    state: "",
    isOnline: false,
    accessToken: options.accessToken,
  });
  const client = new shopify.clients.Rest({ session });
  const runner = createCallRunner({
    connector: "shopify",
    secrets: [options.accessToken],
    onCall: options.onCall,
    timeoutMs: options.timeoutMs,
  });

  return {
    async getOrder(orderId) {
      const id = orderIdOf(orderId);
      if (!id) throw new NonRetriableError(`shopify getOrder: "${String(orderId)}" is not an order id`);
      return runner.vendor(
        "getOrder",
        async () => {
          // `tries: 1`: one request, no SDK retries (it would otherwise sleep through a 429).
          const response = await client.get({ path: `orders/${id}`, tries: 1 });
          const body: unknown = response.body;
          const order = isRecord(body) && isRecord(body.order) ? body.order : undefined;
          if (!order) {
            return runner.fail({
              connector: "shopify",
              operation: "getOrder",
              httpStatus: 200,
              detail: "the response held no order",
            });
          }
          // The REST client does not expose the status of a successful response: any 2xx.
          return { value: mapOrder(order, id) };
        },
        (err) => describeShopifyError("getOrder", err),
      );
    },
  };
}
