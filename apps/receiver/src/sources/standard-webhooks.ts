import type { WorkflowEvent } from "@zixly/workflows";
import { z } from "zod";
import { hmacSha256, matchesAnySecret } from "./hmac.js";
import { WebhookPayloadError, type WebhookSource, WebhookVerificationError } from "./types.js";

/** The spec's tolerance, in both directions, between `webhook-timestamp` and now. */
export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 5 * 60;

const SECRET_PREFIX = "whsec_";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The HMAC key a Standard Webhooks secret stands for: `whsec_` (optional, as in the spec's
 * libraries) then standard base64. `undefined` when the secret is not of that form.
 */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (encoded.length === 0 || !BASE64.test(encoded)) return undefined;
  return Buffer.from(encoded, "base64");
}

/** The body the spec recommends: `type`, `timestamp` (ISO 8601) and `data`; only `type` is required. */
const StandardPayload = z.looseObject({
  type: z.string().trim().min(1, "expected a non-empty event type"),
  timestamp: z.unknown().optional(),
});

function toIso(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out || "(body)";
}

/** The `v1,<base64>` entries of a `webhook-signature` header; other versions are ignored. */
function v1Signatures(header: string): string[] {
  return header
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .map((entry) => entry.slice(3));
}

export interface StandardWebhooksSourceOptions {
  /** Milliseconds since the epoch; the clock timestamps are checked against (tests inject one). */
  now?: () => number;
}

/**
 * Standard Webhooks (https://www.standardwebhooks.com, as Svix sends them): `webhook-signature`
 * lists `v1,<base64 HMAC-SHA256>` entries over `${webhook-id}.${webhook-timestamp}.${body}`
 * under the base64-decoded `whsec_` secret, any one matching; `webhook-timestamp` (seconds)
 * within 5 minutes of now either way. The event type is the body's `type`, lower-cased. The
 * dedupe key is the `Idempotency-Key` header when present, else `webhook-id`.
 */
export function createStandardWebhooksSource(options: StandardWebhooksSourceOptions = {}): WebhookSource {
  const now = options.now ?? Date.now;
  return {
    name: "standard",
    secretRequired: false,
    verifyAndParse(request, endpoint) {
      const id = request.headers["webhook-id"];
      const timestamp = request.headers["webhook-timestamp"];
      const signatureHeader = request.headers["webhook-signature"];
      if (!id || !timestamp || !signatureHeader) {
        throw new WebhookVerificationError(
          "webhook-id, webhook-timestamp and webhook-signature headers are required",
        );
      }
      if (!/^\d{1,15}$/.test(timestamp)) {
        throw new WebhookVerificationError("webhook-timestamp is not an integer number of seconds");
      }

      const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, "utf8"), request.rawBody]);
      // One HMAC per secret, however many signatures the header lists; then every listed
      // signature against every secret, constant-time and without short-circuiting.
      const expected = new Map<string, string>();
      for (const secret of endpoint.secrets) {
        const key = standardWebhooksKey(secret);
        expected.set(secret, key ? hmacSha256(key, signed, "base64") : "");
      }
      let verified = false;
      for (const received of v1Signatures(signatureHeader)) {
        verified =
          matchesAnySecret(endpoint.secrets, received, (secret) => expected.get(secret) ?? "") || verified;
      }
      if (!verified)
        throw new WebhookVerificationError("webhook-signature has no v1 signature matching the request");

      const skew = Math.floor(now() / 1000) - Number(timestamp);
      if (skew > STANDARD_WEBHOOKS_TOLERANCE_SECONDS) {
        throw new WebhookVerificationError(
          "webhook-timestamp is more than 5 minutes old: stale or replayed request",
        );
      }
      if (skew < -STANDARD_WEBHOOKS_TOLERANCE_SECONDS) {
        throw new WebhookVerificationError("webhook-timestamp is more than 5 minutes in the future");
      }

      const idempotencyKey = request.headers["idempotency-key"]?.trim();
      if (idempotencyKey && idempotencyKey.length > 255) {
        throw new WebhookPayloadError("Idempotency-Key header is longer than 255 characters");
      }

      let json: unknown;
      try {
        json = JSON.parse(request.rawBody.toString("utf8"));
      } catch {
        throw new WebhookPayloadError("body is not valid JSON", "malformed_json");
      }
      const payload = StandardPayload.safeParse(json);
      if (!payload.success) {
        const issue = payload.error.issues[0];
        throw new WebhookPayloadError(
          `not a Standard Webhooks payload: ${fieldPath(issue?.path ?? [])}: ${issue?.message}`,
        );
      }

      const event: WorkflowEvent = {
        source: "standard",
        type: payload.data.type.toLowerCase(),
        id: idempotencyKey ? idempotencyKey : id,
        accountId: undefined,
        occurredAt: toIso(payload.data.timestamp),
        data: json,
      };
      return { kind: "events", events: [event] };
    },
  };
}

/** The Standard Webhooks source on the system clock. */
export const standardWebhooksSource: WebhookSource = createStandardWebhooksSource();
