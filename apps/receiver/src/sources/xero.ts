import { sha256Hex } from "@zixly/core";
import type { WorkflowEvent } from "@zixly/workflows";
import { z } from "zod";
import { hmacSha256, matchesAnySecret } from "./hmac.js";
import { WebhookPayloadError, type WebhookSource, WebhookVerificationError } from "./types.js";

const XeroEvent = z.object({
  resourceUrl: z.string().optional(),
  resourceId: z.string().min(1),
  eventDateUtc: z.string().min(1),
  eventType: z.string().min(1),
  eventCategory: z.string().min(1),
  tenantId: z.string().min(1),
  tenantType: z.string().optional(),
});
const XeroPayload = z.object({
  events: z.array(XeroEvent),
  firstEventSequence: z.number().optional(),
  lastEventSequence: z.number().optional(),
  entropy: z.string().optional(),
});
export type XeroWebhookEvent = z.infer<typeof XeroEvent>;

/** Xero sends `eventDateUtc` without a zone designator; it is UTC. */
function toIsoUtc(value: string): string | undefined {
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const date = new Date(withZone);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Xero's events carry no id; these fields identify one (a re-delivery repeats them all).
 * Hashed so the key has a fixed length whatever Xero puts in them.
 */
export function xeroEventKey(e: XeroWebhookEvent): string {
  return sha256Hex([e.tenantId, e.eventCategory, e.eventType, e.resourceId, e.eventDateUtc].join("\n"));
}

/** Xero's verbs (CREATE, UPDATE) become the past tense Zixly's triggers use: `invoice.updated`. */
const pastTense: Record<string, string> = { CREATE: "created", UPDATE: "updated", DELETE: "deleted" };

export function xeroEventType(e: Pick<XeroWebhookEvent, "eventCategory" | "eventType">): string {
  const verb = pastTense[e.eventType.toUpperCase()] ?? e.eventType.toLowerCase();
  return `${e.eventCategory.toLowerCase()}.${verb}`;
}

function isEmptyBatch(rawBody: Buffer): boolean {
  try {
    const parsed = JSON.parse(rawBody.toString("utf8")) as { events?: unknown };
    return Array.isArray(parsed.events) && parsed.events.length === 0;
  } catch {
    return false;
  }
}

/**
 * Xero webhooks: `x-xero-signature` is the base64 HMAC-SHA256 of the raw body under the
 * app's webhook key. An empty `events` batch is the intent-to-receive check, which wants
 * `200` with an empty body when the signature is right and `401` with an empty body when not.
 */
export const xeroSource: WebhookSource = {
  name: "xero",
  secretRequired: true,
  verifyAndParse(request, endpoint) {
    const signature = request.headers["x-xero-signature"];
    const verified = matchesAnySecret(endpoint.secrets, signature, (secret) =>
      hmacSha256(secret, request.rawBody, "base64"),
    );
    if (!verified) {
      if (isEmptyBatch(request.rawBody))
        return { kind: "reply", status: 401, body: "", outcome: "bad_signature" };
      throw new WebhookVerificationError("x-xero-signature does not match the body");
    }

    let json: unknown;
    try {
      json = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      throw new WebhookPayloadError("body is not valid JSON", "malformed_json");
    }
    const payload = XeroPayload.safeParse(json);
    if (!payload.success) {
      const issue = payload.error.issues[0];
      throw new WebhookPayloadError(
        `not a Xero webhook payload: ${issue?.path.join(".")}: ${issue?.message}`,
      );
    }
    if (payload.data.events.length === 0)
      return { kind: "reply", status: 200, body: "", outcome: "handshake" };

    const events: WorkflowEvent[] = payload.data.events.map((e) => ({
      source: "xero",
      type: xeroEventType(e),
      id: xeroEventKey(e),
      accountId: e.tenantId,
      occurredAt: toIsoUtc(e.eventDateUtc),
      data: e,
    }));
    return { kind: "events", events };
  },
};
