import type { Request, Response } from "express";
import {
  createSandboxApp,
  type FailureDefaults,
  listen,
  type RunningServer,
  type SandboxControls,
  sendBody,
} from "./http-fixture.js";

/** Fixed defaults, so a demo run and its `.env` can name them. */
export const SHOPIFY_SANDBOX_DEFAULTS = {
  accessToken: "shpat_shopify-sandbox-access-token",
  shop: "zixly-sandbox.myshopify.com",
} as const;

/** A tax line as the Admin REST API sends it: money as a decimal string. */
export interface ShopifyWireTaxLine {
  title: string;
  price: string;
  rate: number;
}

export interface ShopifyWireLineItem {
  id: number;
  title: string;
  name: string;
  quantity: number;
  price: string;
  sku: string | null;
  total_discount: string;
  discount_allocations: { amount: string }[];
  tax_lines: ShopifyWireTaxLine[];
  taxable: boolean;
}

export interface ShopifyWireShippingLine {
  id: number;
  title: string;
  price: string;
  tax_lines: ShopifyWireTaxLine[];
}

export interface ShopifyWireCustomer {
  id: number;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
}

/** An order as `GET /admin/api/<version>/orders/{id}.json` returns it (the fields the sandbox serves). */
export interface ShopifyWireOrder {
  id: number;
  admin_graphql_api_id: string;
  name: string;
  order_number: number;
  email: string | null;
  contact_email: string | null;
  currency: string;
  presentment_currency: string;
  financial_status: string;
  fulfillment_status: string | null;
  taxes_included: boolean;
  subtotal_price: string;
  total_tax: string;
  total_discounts: string;
  total_price: string;
  total_line_items_price: string;
  created_at: string;
  updated_at: string;
  processed_at: string;
  line_items: ShopifyWireLineItem[];
  shipping_lines: ShopifyWireShippingLine[];
  tax_lines: ShopifyWireTaxLine[];
  customer: ShopifyWireCustomer | null;
}

/** A line of an order seed: money as numbers or decimal strings. */
export interface ShopifyLineItemSeed {
  title: string;
  quantity?: number;
  price: number | string;
  sku?: string | null;
  /** Discount allocated to the whole line. */
  discount?: number | string;
  taxLines?: { title?: string; rate: number; price?: number | string }[];
}

/**
 * What `addOrder` accepts. Defaults: the next id and `#100n` name, `AUD`, `paid`, one line, no
 * shipping; subtotal, tax and total are computed from the lines (a tax line without a `price`
 * gets `rate × line amount`).
 */
export interface ShopifyOrderSeed {
  id?: number;
  name?: string;
  email?: string | null;
  currency?: string;
  financialStatus?: string;
  taxesIncluded?: boolean;
  createdAt?: Date | string;
  lineItems?: ShopifyLineItemSeed[];
  shippingLines?: {
    title?: string;
    price: number | string;
    taxLines?: { title?: string; rate: number; price?: number | string }[];
  }[];
  customer?: {
    id?: number;
    email?: string | null;
    firstName?: string | null;
    lastName?: string | null;
  } | null;
}

export interface ShopifySandboxOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** `X-Shopify-Access-Token` values the API accepts. Default `[SHOPIFY_SANDBOX_DEFAULTS.accessToken]`. */
  validTokens?: string[];
  /** Clock. Default `Date.now`. */
  now?: () => number;
}

export interface ShopifySandboxState {
  /** Keyed by order id. */
  orders: Map<string, ShopifyWireOrder>;
  validTokens: Set<string>;
}

/** A local stand-in for Shopify's Admin REST API (orders only; not Shopify). */
export interface ShopifySandbox extends RunningServer, SandboxControls {
  readonly state: ShopifySandboxState;
  /** Store an order and return it as the API will serve it. */
  addOrder(seed?: ShopifyOrderSeed): ShopifyWireOrder;
}

const INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)";
/** The leaky bucket the sandbox reports: no counters, always nearly empty (REST: 40, 2/s). */
const CALL_LIMIT_OK = "1/40";

/** What Shopify sends for a status when an injected failure names only the status. */
const shopifyFailureDefaults: FailureDefaults = (status) => {
  if (status === 429) {
    return {
      headers: { "Retry-After": "2.0", "X-Shopify-Shop-Api-Call-Limit": "40/40" },
      body: {
        errors:
          "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.",
      },
    };
  }
  if (status === 401) return { body: { errors: INVALID_TOKEN } };
  if (status === 404) return { body: { errors: "Not Found" } };
  if (status >= 500) return { body: { errors: "Internal Server Error" } };
  return { body: { errors: "Bad Request" } };
};

function decimal(value: number): string {
  return (Math.round(value * 100) / 100).toFixed(2);
}

function amount(value: number | string | undefined): number {
  const n = typeof value === "number" ? value : Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Start a local stand-in for Shopify's Admin REST API: `GET /admin/api/{version}/orders/{id}.json`
 * with Shopify's JSON shapes (money as decimal strings), `X-Shopify-Access-Token` auth (401),
 * `404 {"errors":"Not Found"}`, and 429 with `Retry-After` and the leaky-bucket header when
 * injected. Point `SHOPIFY_API_BASE_URL` at {@link ShopifySandbox.url}.
 *
 * @example
 * ```ts
 * const shopify = await createShopifySandbox();
 * const order = shopify.addOrder({ email: "ana@example.com", lineItems: [{ title: "Mug", price: 20, quantity: 2 }] });
 * // GET `${shopify.url}/admin/api/2026-07/orders/${order.id}.json` with X-Shopify-Access-Token
 * await shopify.close();
 * ```
 */
export async function createShopifySandbox(options: ShopifySandboxOptions = {}): Promise<ShopifySandbox> {
  const now = options.now ?? Date.now;
  const state: ShopifySandboxState = {
    orders: new Map(),
    validTokens: new Set(options.validTokens ?? [SHOPIFY_SANDBOX_DEFAULTS.accessToken]),
  };
  let nextOrderId = 450_789_469;
  let nextNumber = 1001;
  let nextLineId = 466_157_049;

  const { app, controls } = createSandboxApp({
    defaults: shopifyFailureDefaults,
    onBadJson: (res) => sendBody(res, 400, { errors: { order: "Required parameter missing or invalid" } }),
  });

  app.use("/admin", (req: Request, res: Response, next) => {
    const header = req.headers["x-shopify-access-token"];
    const token = Array.isArray(header) ? header[0] : header;
    if (!token || !state.validTokens.has(token)) {
      sendBody(res, 401, { errors: INVALID_TOKEN });
      return;
    }
    next();
  });

  app.get("/admin/api/:version/orders/:file", (req, res) => {
    const version = String(req.params.version);
    const match = /^(\d+)\.json$/.exec(String(req.params.file));
    if (!/^(\d{4}-\d{2}|unstable)$/.test(version) || !match?.[1]) {
      sendBody(res, 404, { errors: "Not Found" });
      return;
    }
    const order = state.orders.get(match[1]);
    if (!order) {
      sendBody(res, 404, { errors: "Not Found" });
      return;
    }
    sendBody(
      res,
      200,
      { order },
      { "X-Shopify-API-Version": version, "X-Shopify-Shop-Api-Call-Limit": CALL_LIMIT_OK },
    );
  });

  app.use((_req: Request, res: Response) => sendBody(res, 404, { errors: "Not Found" }));

  const server = await listen(app, options);

  const taxLines = (
    seeds: { title?: string; rate: number; price?: number | string }[] | undefined,
    base: number,
  ): ShopifyWireTaxLine[] =>
    (seeds ?? []).map((t) => ({
      title: t.title ?? "Tax",
      rate: t.rate,
      price: decimal(t.price === undefined ? base * t.rate : amount(t.price)),
    }));

  return {
    ...server,
    ...controls,
    state,
    addOrder(seed = {}) {
      const id = seed.id ?? nextOrderId++;
      const orderNumber = nextNumber++;
      const created = seed.createdAt ? new Date(seed.createdAt) : new Date(now());
      const lines = (
        seed.lineItems ?? [{ title: "Sandbox product", price: 100, quantity: 1, sku: "SBX-1" }]
      ).map((line): ShopifyWireLineItem => {
        const quantity = line.quantity ?? 1;
        const discount = amount(line.discount);
        const base = amount(line.price) * quantity - discount;
        return {
          id: nextLineId++,
          title: line.title,
          name: line.title,
          quantity,
          price: decimal(amount(line.price)),
          sku: line.sku ?? null,
          total_discount: decimal(discount),
          discount_allocations: discount > 0 ? [{ amount: decimal(discount) }] : [],
          tax_lines: taxLines(line.taxLines, base),
          taxable: (line.taxLines ?? []).length > 0,
        };
      });
      const shipping = (seed.shippingLines ?? []).map(
        (s): ShopifyWireShippingLine => ({
          id: nextLineId++,
          title: s.title ?? "Standard",
          price: decimal(amount(s.price)),
          tax_lines: taxLines(s.taxLines, amount(s.price)),
        }),
      );
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
      const lineItemsPrice = sum(lines.map((l) => amount(l.price) * l.quantity));
      const discounts = sum(lines.map((l) => amount(l.total_discount)));
      const subtotal = lineItemsPrice - discounts;
      const shippingTotal = sum(shipping.map((s) => amount(s.price)));
      const tax = sum([...lines, ...shipping].flatMap((l) => l.tax_lines.map((t) => amount(t.price))));
      const taxesIncluded = seed.taxesIncluded ?? false;
      const total = subtotal + shippingTotal + (taxesIncluded ? 0 : tax);
      const email = seed.email === undefined ? "customer@example.com" : seed.email;
      const customer =
        seed.customer === null
          ? null
          : {
              id: seed.customer?.id ?? 207_119_551,
              email: seed.customer?.email === undefined ? email : seed.customer.email,
              first_name: seed.customer?.firstName ?? null,
              last_name: seed.customer?.lastName ?? null,
            };
      const byTitle = new Map<string, ShopifyWireTaxLine>();
      for (const t of [...lines, ...shipping].flatMap((l) => l.tax_lines)) {
        const seen = byTitle.get(t.title);
        byTitle.set(
          t.title,
          seen ? { ...seen, price: decimal(amount(seen.price) + amount(t.price)) } : { ...t },
        );
      }
      const order: ShopifyWireOrder = {
        id,
        admin_graphql_api_id: `gid://shopify/Order/${id}`,
        name: seed.name ?? `#${orderNumber}`,
        order_number: orderNumber,
        email,
        contact_email: email,
        currency: seed.currency ?? "AUD",
        presentment_currency: seed.currency ?? "AUD",
        financial_status: seed.financialStatus ?? "paid",
        fulfillment_status: null,
        taxes_included: taxesIncluded,
        subtotal_price: decimal(subtotal),
        total_tax: decimal(tax),
        total_discounts: decimal(discounts),
        total_price: decimal(total),
        total_line_items_price: decimal(lineItemsPrice),
        created_at: iso(created),
        updated_at: iso(created),
        processed_at: iso(created),
        line_items: lines,
        shipping_lines: shipping,
        tax_lines: [...byTitle.values()],
        customer,
      };
      state.orders.set(String(id), order);
      return order;
    },
  };
}
