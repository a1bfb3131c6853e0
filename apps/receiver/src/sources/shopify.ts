import type { WorkflowEvent } from "@zixly/workflows";
import { hmacSha256, matchesAnySecret } from "./hmac.js";
import {
  type SourceRequest,
  WebhookPayloadError,
  type WebhookSource,
  WebhookVerificationError,
} from "./types.js";

/**
 * A Shopify header: `X-Shopify-*` on webhooks, `Shopify-*` (no `X-`) on the newer Events
 * deliveries. Names are lower-cased by the receiver.
 */
function shopifyHeader(request: SourceRequest, name: string): string | undefined {
  const value = request.headers[`x-shopify-${name}`] ?? request.headers[`shopify-${name}`];
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `orders/paid` → `orders.paid`: the topic lower-cased, `/` turned into `.` (topics contain no `.`). */
export function shopifyEventType(topic: string): string {
  return topic.trim().toLowerCase().replaceAll("/", ".");
}

function toIso(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Shopify webhooks: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body under the
 * app's client secret (the headers are not signed, and there is no signed timestamp). The topic
 * header is the event type, the shop domain the account, and the dedupe key is
 * `<type>:<X-Shopify-Event-Id>` (Shopify: "the same value across more than one webhook
 * indicates a duplicate"), falling back to `<type>:webhook:<X-Shopify-Webhook-Id>`.
 */
export const shopifySource: WebhookSource = {
  name: "shopify",
  secretRequired: true,
  verifyAndParse(request, endpoint) {
    const signature = shopifyHeader(request, "hmac-sha256");
    const verified = matchesAnySecret(endpoint.secrets, signature, (secret) =>
      hmacSha256(secret, request.rawBody, "base64"),
    );
    if (!verified) throw new WebhookVerificationError("X-Shopify-Hmac-Sha256 does not match the body");

    const topic = shopifyHeader(request, "topic");
    if (!topic) throw new WebhookPayloadError("X-Shopify-Topic header is missing");
    const shopDomain = shopifyHeader(request, "shop-domain");
    if (!shopDomain) throw new WebhookPayloadError("X-Shopify-Shop-Domain header is missing");
    const eventId = shopifyHeader(request, "event-id");
    const webhookId = shopifyHeader(request, "webhook-id");
    if (!eventId && !webhookId) {
      throw new WebhookPayloadError("X-Shopify-Event-Id and X-Shopify-Webhook-Id headers are both missing");
    }

    let json: unknown;
    try {
      json = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      throw new WebhookPayloadError(
        "body is not valid JSON (only JSON-format Shopify webhooks are supported)",
        "malformed_json",
      );
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new WebhookPayloadError("not a Shopify webhook payload: (body): expected a JSON object");
    }

    const type = shopifyEventType(topic);
    const event: WorkflowEvent = {
      source: "shopify",
      type,
      id: eventId ? `${type}:${eventId}` : `${type}:webhook:${webhookId}`,
      accountId: shopDomain,
      occurredAt: toIso(shopifyHeader(request, "triggered-at")),
      data: json,
    };
    return { kind: "events", events: [event] };
  },
};
