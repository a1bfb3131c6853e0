import net from "node:net";
import {
  isNonRetriableError,
  NonRetriableError,
  RetryAfterError,
  retryAfterMsOf,
  serializeError,
} from "@zixly/core";
import { createShopifySandbox, SHOPIFY_SANDBOX_DEFAULTS, type ShopifySandbox } from "@zixly/sandboxes";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConnectorCall } from "./connector-call.js";
import {
  createShopifyConnector,
  DEFAULT_SHOPIFY_API_VERSION,
  type ShopifyConnectorOptions,
  shopifyBucketWaitMs,
} from "./shopify.js";

/** Distinctive, so a leak anywhere in an error is easy to spot. */
const SECRET_TOKEN = "shpat_SHOULD-NEVER-APPEAR-IN-ERRORS-5d2e";
const ORDER_ROUTE = "GET /admin/api/:version/orders/:file";

let sandbox: ShopifySandbox;
beforeEach(async () => {
  sandbox = await createShopifySandbox({ validTokens: [SECRET_TOKEN] });
});
afterEach(async () => {
  await sandbox.close();
});

function connector(overrides: Partial<ShopifyConnectorOptions> = {}) {
  return createShopifyConnector({
    accessToken: SECRET_TOKEN,
    shop: SHOPIFY_SANDBOX_DEFAULTS.shop,
    apiBaseUrl: sandbox.url,
    ...overrides,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error("expected a rejection");
}

function expectNoSecret(err: Error): void {
  const everything = JSON.stringify(serializeError(err)) + String(err.stack) + JSON.stringify(err);
  expect(everything).not.toContain(SECRET_TOKEN);
  expect(err.cause).toBeUndefined();
}

describe("shopify connector: getOrder through @shopify/shopify-api against the sandbox", () => {
  it("maps an order: money as numbers, lines with SKU, tax and discounts, shipping, customer", async () => {
    const stored = sandbox.addOrder({
      email: "ana@example.com",
      currency: "NZD",
      createdAt: "2026-11-20T09:30:00Z",
      customer: { firstName: "Ana", lastName: "Lima" },
      lineItems: [
        {
          title: "Mug",
          sku: "MUG-01",
          price: "20.00",
          quantity: 2,
          taxLines: [{ title: "GST", rate: 0.15 }],
        },
        { title: "Tea", price: 12.5, quantity: 1, discount: 2.5 },
      ],
      shippingLines: [{ title: "Courier", price: 8, taxLines: [{ title: "GST", rate: 0.15 }] }],
    });

    const order = await connector().getOrder(String(stored.id));

    expect(order).toEqual({
      id: String(stored.id),
      name: stored.name,
      email: "ana@example.com",
      currency: "NZD",
      totalPrice: 65.2,
      subtotalPrice: 50,
      totalTax: 7.2,
      totalDiscounts: 2.5,
      taxesIncluded: false,
      financialStatus: "paid",
      createdAt: "2026-11-20T09:30:00Z",
      lineItems: [
        {
          id: String(stored.line_items[0]?.id),
          title: "Mug",
          quantity: 2,
          price: 20,
          sku: "MUG-01",
          totalDiscount: 0,
          taxLines: [{ title: "GST", rate: 0.15, price: 6 }],
        },
        {
          id: String(stored.line_items[1]?.id),
          title: "Tea",
          quantity: 1,
          price: 12.5,
          sku: null,
          totalDiscount: 2.5,
          taxLines: [],
        },
      ],
      shippingLines: [{ title: "Courier", price: 8, taxLines: [{ title: "GST", rate: 0.15, price: 1.2 }] }],
      customer: {
        id: String(stored.customer?.id),
        firstName: "Ana",
        lastName: "Lima",
        email: "ana@example.com",
      },
    });
  });

  it("calls the path Shopify documents with the access token header; takes a GraphQL gid too", async () => {
    const stored = sandbox.addOrder();
    await connector({ apiBaseUrl: `${sandbox.url}/` }).getOrder(`gid://shopify/Order/${stored.id}`);
    await connector({ apiVersion: "2026-10" }).getOrder(String(stored.id));
    expect(sandbox.requests.map((r) => r.path)).toEqual([
      `/admin/api/${DEFAULT_SHOPIFY_API_VERSION}/orders/${stored.id}.json`,
      `/admin/api/2026-10/orders/${stored.id}.json`,
    ]);
    expect(sandbox.requests[0]?.headers["x-shopify-access-token"]).toBe(SECRET_TOKEN);
    expect(sandbox.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("reads an order without a customer", async () => {
    const stored = sandbox.addOrder({ email: null, customer: null });
    await expect(connector().getOrder(String(stored.id))).resolves.toMatchObject({
      email: null,
      customer: null,
    });
  });
});

describe("shopify connector: error mapping", () => {
  it("unknown order → NonRetriableError with Shopify's words", async () => {
    const err = await rejectionOf(connector().getOrder("999"));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe("shopify getOrder failed: 404 Not Found — Not Found");
    expectNoSecret(err);
  });

  it("a rejected token → NonRetriableError whose message, cause and stack never hold the token", async () => {
    await sandbox.close();
    sandbox = await createShopifySandbox({ validTokens: ["shpat_other"] });
    const stored = sandbox.addOrder();
    const err = await rejectionOf(connector().getOrder(String(stored.id)));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe(
      "shopify getOrder failed: 401 Unauthorized — [API] Invalid API key or access token (unrecognized login or wrong password)",
    );
    expectNoSecret(err);
    expect(sandbox.requests[0]?.headers["x-shopify-access-token"]).toBe(SECRET_TOKEN);
  });

  it("429 with Retry-After: 2.0 → RetryAfterError(2000), naming the leaky bucket; no SDK retry", async () => {
    const stored = sandbox.addOrder();
    sandbox.failNext({ status: 429, route: ORDER_ROUTE });
    const err = await rejectionOf(connector().getOrder(String(stored.id)));
    expect(err).toBeInstanceOf(RetryAfterError);
    expect(retryAfterMsOf(err)).toBe(2000);
    expect(err.message).toBe(
      "shopify getOrder failed: 429 Too Many Requests — throttled (call limit 40/40): Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service. (retry after 2s)",
    );
    expect(sandbox.requests).toHaveLength(1);
    expectNoSecret(err);
  });

  it("429 without Retry-After → the wait the leaky bucket implies", async () => {
    const stored = sandbox.addOrder();
    sandbox.failNext({
      status: 429,
      headers: { "Retry-After": "", "X-Shopify-Shop-Api-Call-Limit": "80/80" },
    });
    const err = await rejectionOf(connector().getOrder(String(stored.id)));
    expect(retryAfterMsOf(err)).toBe(1000);
    expect(shopifyBucketWaitMs("40/40")).toBe(1000);
    expect(shopifyBucketWaitMs("45/40")).toBe(3000);
    expect(shopifyBucketWaitMs("garbage")).toBeUndefined();
  });

  it("500 and an HTML 502 → plain, retryable Errors", async () => {
    const stored = sandbox.addOrder();
    sandbox.failNext({ status: 500 });
    const json = await rejectionOf(connector().getOrder(String(stored.id)));
    expect(json.constructor).toBe(Error);
    expect(isNonRetriableError(json)).toBe(false);
    expect(json.message).toBe("shopify getOrder failed: 500 Internal Server Error — Internal Server Error");

    sandbox.failNext({
      status: 502,
      body: "<html>Bad gateway</html>",
      headers: { "content-type": "text/html" },
    });
    const html = await rejectionOf(connector().getOrder(String(stored.id)));
    expect(html.constructor).toBe(Error);
    expect(html.message).toMatch(/^shopify getOrder failed: network error — unreadable response body/);
  });

  it("an error body that echoes the token is scrubbed", async () => {
    const stored = sandbox.addOrder();
    sandbox.failNext({ status: 400, body: { errors: `bad token ${SECRET_TOKEN}` } });
    const err = await rejectionOf(connector().getOrder(String(stored.id)));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toContain("[redacted]");
    expectNoSecret(err);
  });

  it("a network error or a silent vendor → plain, retryable Errors", async () => {
    const stored = sandbox.addOrder();
    sandbox.failNext({ reset: true });
    const reset = await rejectionOf(connector().getOrder(String(stored.id)));
    expect(reset.constructor).toBe(Error);
    expect(reset.message).toMatch(/^shopify getOrder failed: network error — /);
    expectNoSecret(reset);

    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const err = await rejectionOf(
        connector({ apiBaseUrl: `http://127.0.0.1:${port}`, timeoutMs: 200 }).getOrder("1"),
      );
      expect(err.message).toBe("shopify getOrder failed: network error — no response within 200 ms");
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it("refuses bad input before any request: an id that is not one, a base URL with a path, a foreign shop", async () => {
    for (const id of ["", "abc", "12/../13", "gid://shopify/Customer/1"]) {
      expect(await rejectionOf(connector().getOrder(id))).toBeInstanceOf(NonRetriableError);
    }
    expect(sandbox.requests).toHaveLength(0);
    expect(() => connector({ apiBaseUrl: `${sandbox.url}/admin` })).toThrow(/origin only/);
    expect(() => connector({ apiBaseUrl: undefined, shop: "evil.example.com" })).toThrow(
      /not a myshopify\.com domain/,
    );
    expect(() => connector({ apiBaseUrl: undefined })).not.toThrow();
  });
});

describe("shopify connector: onCall", () => {
  it("reports each call with its outcome and latency", async () => {
    const calls: ConnectorCall[] = [];
    const shopify = connector({ onCall: (c) => calls.push(c) });
    const stored = sandbox.addOrder();
    await shopify.getOrder(String(stored.id));
    await rejectionOf(shopify.getOrder("1"));
    expect(calls.map(({ durationMs: _, ...c }) => c)).toEqual([
      { connector: "shopify", operation: "getOrder", status: "ok" },
      { connector: "shopify", operation: "getOrder", status: "error", httpStatus: 404 },
    ]);
  });
});
