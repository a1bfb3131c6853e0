// How each vendor signs a delivery (docs/webhook-sources.md), written independently of the
// receiver's code so a test fails if the receiver's verification drifts from the vendors'.
import { createHmac } from "node:crypto";

export type SourceName = "xero" | "hubspot" | "shopify" | "asana" | "standard";
export const SOURCE_NAMES: readonly SourceName[] = ["xero", "hubspot", "shopify", "asana", "standard"];

const hmac = (key: string | Buffer, data: string | Buffer, encoding: "base64" | "hex") =>
  createHmac("sha256", key).update(data).digest(encoding);

/** Xero: `x-xero-signature` = base64 HMAC-SHA256(body) under the webhook key. */
export function xeroHeaders(key: string, body: string | Buffer): Record<string, string> {
  return { "x-xero-signature": hmac(key, body, "base64") };
}

/**
 * HubSpot v3: base64 HMAC-SHA256 of `method + URI + body + timestamp` under the client secret;
 * `url` is the full URL HubSpot called.
 */
export function hubspotHeaders(
  secret: string,
  method: string,
  url: string,
  body: string | Buffer,
  timestampMs = Date.now(),
): Record<string, string> {
  const signed = Buffer.concat([
    Buffer.from(`${method}${url}`),
    Buffer.from(body),
    Buffer.from(String(timestampMs)),
  ]);
  return {
    "x-hubspot-signature-v3": hmac(secret, signed, "base64"),
    "x-hubspot-request-timestamp": String(timestampMs),
  };
}

/** Shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256(body) under the client secret, plus the routing headers. */
export function shopifyHeaders(
  secret: string,
  body: string | Buffer,
  meta: { topic?: string; shop?: string; eventId?: string } = {},
): Record<string, string> {
  return {
    "x-shopify-hmac-sha256": hmac(secret, body, "base64"),
    "x-shopify-topic": meta.topic ?? "orders/paid",
    "x-shopify-shop-domain": meta.shop ?? "example.myshopify.com",
    "x-shopify-event-id": meta.eventId ?? "evt-1",
  };
}

/** Asana: `X-Hook-Signature` = hex HMAC-SHA256(body) under the secret from the handshake. */
export function asanaHeaders(secret: string, body: string | Buffer): Record<string, string> {
  return { "x-hook-signature": hmac(secret, body, "hex") };
}

/** Standard Webhooks: `v1,<base64 HMAC-SHA256(id.timestamp.body)>` under the base64-decoded `whsec_` secret. */
export function standardHeaders(
  secret: string,
  id: string,
  body: string | Buffer,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(body)]);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${hmac(key, signed, "base64")}`,
  };
}
