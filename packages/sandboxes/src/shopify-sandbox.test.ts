import { afterEach, describe, expect, it } from "vitest";
import {
  createShopifySandbox,
  SHOPIFY_SANDBOX_DEFAULTS,
  type ShopifySandbox,
  type ShopifySandboxOptions,
} from "./shopify-sandbox.js";

const open: ShopifySandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(options?: ShopifySandboxOptions): Promise<ShopifySandbox> {
  const sandbox = await createShopifySandbox(options);
  open.push(sandbox);
  return sandbox;
}

const get = (sandbox: ShopifySandbox, path: string, token: string = SHOPIFY_SANDBOX_DEFAULTS.accessToken) =>
  fetch(`${sandbox.url}${path}`, { headers: token ? { "x-shopify-access-token": token } : {} });

describe("shopify sandbox: orders", () => {
  it("serves an order in the Admin REST shape: money as decimal strings, computed totals", async () => {
    const shopify = await start();
    const order = shopify.addOrder({
      email: "ana@example.com",
      lineItems: [
        { title: "Mug", price: 20, quantity: 2, sku: "MUG-01", taxLines: [{ title: "GST", rate: 0.1 }] },
        { title: "Tea", price: "5.50", discount: 0.5 },
      ],
      shippingLines: [{ price: 10 }],
    });
    expect(order).toMatchObject({
      name: "#1001",
      subtotal_price: "45.00",
      total_tax: "4.00",
      total_discounts: "0.50",
      total_price: "59.00",
      financial_status: "paid",
      tax_lines: [{ title: "GST", price: "4.00", rate: 0.1 }],
    });

    const res = await get(shopify, `/admin/api/2026-07/orders/${order.id}.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-shopify-shop-api-call-limit")).toBe("1/40");
    expect(res.headers.get("x-shopify-api-version")).toBe("2026-07");
    expect(await res.json()).toEqual({ order });
  });

  it("answers 401 without the access token, 404 for an unknown order or path, 429 when told", async () => {
    const shopify = await start();
    const order = shopify.addOrder();
    const path = `/admin/api/2026-07/orders/${order.id}.json`;

    const denied = await get(shopify, path, "");
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({
      errors: "[API] Invalid API key or access token (unrecognized login or wrong password)",
    });
    expect((await get(shopify, path, "wrong")).status).toBe(401);

    const missing = await get(shopify, "/admin/api/2026-07/orders/1.json");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: "Not Found" });
    expect((await get(shopify, `/admin/api/v1/orders/${order.id}.json`)).status).toBe(404);

    shopify.failNext({ status: 429 });
    const limited = await get(shopify, path);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2.0");
    expect(limited.headers.get("x-shopify-shop-api-call-limit")).toBe("40/40");
    expect(shopify.count("GET", "/admin/api/:version/orders/:file")).toBe(5);
  });
});
