// Shopify-style deliveries: an `orders/create` body of about 2 KB, signed like Shopify signs
// (base64 HMAC-SHA256 of the raw body under the app secret), each with its own event id so
// every request is a new event for the receiver.
import { createHmac, randomUUID } from "node:crypto";

export const SHOP_DOMAIN = "bench-shop.myshopify.com";

const lineItem = (n: number) => ({
  id: 866550311766439000 + n,
  variant_id: 808950810 + n,
  title: `IPod Nano - 8GB (${n})`,
  quantity: 1,
  sku: `IPOD2008PINK-${n}`,
  vendor: "Apple",
  product_id: 632910392,
  requires_shipping: true,
  taxable: true,
  gift_card: false,
  name: "IPod Nano - 8GB - Pink",
  price: "199.00",
  total_discount: "0.00",
  fulfillment_status: null,
  tax_lines: [{ price: "11.94", rate: 0.06, title: "State Tax" }],
});
const address = {
  first_name: "Bob",
  last_name: "Norman",
  address1: "Chestnut Street 92",
  city: "Louisville",
  province: "Kentucky",
  country: "United States",
  zip: "40202",
  phone: "+1(502)-459-2181",
  country_code: "US",
  province_code: "KY",
};
// Everything after the per-delivery fields, serialised once (without its opening brace).
const REST = JSON.stringify({
  email: "bob.norman@mail.example.com",
  currency: "USD",
  financial_status: "paid",
  total_price: "597.00",
  subtotal_price: "597.00",
  total_tax: "35.82",
  customer: { id: 207119551, email: "bob.norman@mail.example.com", first_name: "Bob", last_name: "Norman" },
  billing_address: address,
  shipping_address: address,
  line_items: [lineItem(1), lineItem(2), lineItem(3)],
  note: "x".repeat(180),
}).slice(1);

let seq = 0;

export interface Delivery {
  body: string;
  headers: Record<string, string>;
}

/** One new, uniquely identified, correctly signed delivery; `bench_sent_at` is when it was made. */
export function shopifyDelivery(secret: string, sentAt = Date.now()): Delivery {
  const eventId = randomUUID();
  const body = `{"id":${++seq},"admin_graphql_api_id":"gid://shopify/Order/${eventId}","bench_sent_at":${sentAt},${REST}`;
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": "orders/create",
      "x-shopify-shop-domain": SHOP_DOMAIN,
      "x-shopify-api-version": "2025-10",
      "x-shopify-event-id": eventId,
      "x-shopify-webhook-id": randomUUID(),
      "x-shopify-triggered-at": new Date(sentAt).toISOString(),
      "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
    },
  };
}
