import { createHash } from "node:crypto";
import { sha256Hex } from "@zixly/core";
import type { WorkflowEvent } from "@zixly/workflows";
import { z } from "zod";
import { hmacSha256, matchesAnySecret } from "./hmac.js";
import {
  type SourceEndpoint,
  type SourceRequest,
  WebhookPayloadError,
  type WebhookSource,
  WebhookVerificationError,
} from "./types.js";

/** HubSpot rejects v3 requests older than this; we hold future timestamps to the same skew. */
export const HUBSPOT_TIMESTAMP_TOLERANCE_MS = 5 * 60 * 1000;

const Id = z.union([z.number(), z.string().min(1)]);
/** One notification of the batch. Unknown fields are kept: `data` is the event as HubSpot sent it. */
const HubspotEvent = z.looseObject({
  eventId: Id,
  subscriptionId: Id.optional(),
  portalId: Id,
  appId: Id.optional(),
  occurredAt: z.number().optional(),
  subscriptionType: z.string().min(1),
  attemptNumber: z.number().optional(),
  objectId: Id.optional(),
  propertyName: z.string().optional(),
  changeSource: z.string().optional(),
});
const HubspotPayload = z.array(HubspotEvent);
export type HubspotWebhookEvent = z.infer<typeof HubspotEvent>;

/**
 * The `%xx` sequences HubSpot decodes in the request URI before it signs it (v3). Both cases of
 * the hex digits are decoded; the URI as received is tried as well.
 */
const DECODED_BEFORE_SIGNING: Readonly<Record<string, string>> = {
  "%3A": ":",
  "%2F": "/",
  "%3F": "?",
  "%40": "@",
  "%21": "!",
  "%24": "$",
  "%27": "'",
  "%28": "(",
  "%29": ")",
  "%2A": "*",
  "%2C": ",",
  "%3B": ";",
};
const ENCODED = /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi;

/** The URIs a HubSpot signature may cover: the documented decoding of `url`, then `url` as received. */
export function hubspotSignedUris(url: string): string[] {
  const decoded = url.replace(ENCODED, (m) => DECODED_BEFORE_SIGNING[m.toUpperCase()] ?? m);
  return decoded === url ? [url] : [decoded, url];
}

/**
 * HubSpot documents `eventId` as "not guaranteed to be unique", so the key hashes the fields
 * that identify one notification; a retry repeats them all (only `attemptNumber` changes).
 */
export function hubspotEventKey(e: HubspotWebhookEvent): string {
  const parts = [
    e.portalId,
    e.appId,
    e.subscriptionId,
    e.subscriptionType,
    e.eventId,
    e.objectId,
    e.propertyName,
    e.occurredAt,
  ];
  return sha256Hex(parts.map((p) => (p === undefined ? "" : String(p))).join("\n"));
}

function sha256HexOf(...parts: Buffer[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/** True when `received` matches under any secret for any of the candidate URIs (no short-circuit). */
function matchesForAnyUri(
  secrets: readonly string[],
  received: string,
  url: string,
  expectedFor: (secret: string, uri: string) => string,
): boolean {
  let ok = false;
  for (const uri of hubspotSignedUris(url)) {
    ok = matchesAnySecret(secrets, received, (secret) => expectedFor(secret, uri)) || ok;
  }
  return ok;
}

/** The legacy signature versions an endpoint opted into with `settings.hubspotSignatureVersions`. */
function legacyVersionsEnabled(settings: SourceEndpoint["settings"]): Set<string> {
  const listed = settings.hubspotSignatureVersions;
  if (!Array.isArray(listed)) return new Set();
  return new Set(listed.filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase()));
}

function verifyV3(request: SourceRequest, endpoint: SourceEndpoint, signature: string, nowMs: number): void {
  const timestamp = request.headers["x-hubspot-request-timestamp"];
  if (!timestamp || !/^\d{1,16}$/.test(timestamp)) {
    throw new WebhookVerificationError(
      "X-HubSpot-Request-Timestamp is missing or not a millisecond timestamp",
    );
  }
  const verified = matchesForAnyUri(endpoint.secrets, signature, request.url, (secret, uri) =>
    hmacSha256(
      secret,
      Buffer.concat([
        Buffer.from(`${request.method}${uri}`, "utf8"),
        request.rawBody,
        Buffer.from(timestamp, "utf8"),
      ]),
      "base64",
    ),
  );
  if (!verified) throw new WebhookVerificationError("X-HubSpot-Signature-v3 does not match the request");

  const age = nowMs - Number(timestamp);
  if (age > HUBSPOT_TIMESTAMP_TOLERANCE_MS) {
    throw new WebhookVerificationError(
      "X-HubSpot-Request-Timestamp is more than 5 minutes old: stale or replayed request",
    );
  }
  if (age < -HUBSPOT_TIMESTAMP_TOLERANCE_MS) {
    throw new WebhookVerificationError("X-HubSpot-Request-Timestamp is more than 5 minutes in the future");
  }
}

function verifyLegacy(request: SourceRequest, endpoint: SourceEndpoint, signature: string | undefined): void {
  if (signature === undefined) throw new WebhookVerificationError("X-HubSpot-Signature-v3 header is missing");
  const version = request.headers["x-hubspot-signature-version"]?.trim().toLowerCase();
  if (version !== "v1" && version !== "v2") {
    throw new WebhookVerificationError(
      "X-HubSpot-Signature-v3 header is missing and X-HubSpot-Signature-Version is not v1 or v2",
    );
  }
  if (!legacyVersionsEnabled(endpoint.settings).has(version)) {
    throw new WebhookVerificationError(
      `HubSpot ${version} signatures are not accepted by this endpoint (v3 only unless settings.hubspotSignatureVersions lists "${version}")`,
    );
  }
  const received = signature.trim().toLowerCase();
  const body = request.rawBody;
  const verified =
    version === "v1"
      ? matchesAnySecret(endpoint.secrets, received, (secret) =>
          sha256HexOf(Buffer.from(secret, "utf8"), body),
        )
      : matchesForAnyUri(endpoint.secrets, received, request.url, (secret, uri) =>
          sha256HexOf(Buffer.from(`${secret}${request.method}${uri}`, "utf8"), body),
        );
  if (!verified)
    throw new WebhookVerificationError(`X-HubSpot-Signature (${version}) does not match the request`);
}

function toIso(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  return new Date(ms).toISOString();
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out || "(body)";
}

export interface HubspotSourceOptions {
  /** Milliseconds since the epoch; the clock timestamps are checked against (tests inject one). */
  now?: () => number;
}

/**
 * HubSpot webhooks. v3: `X-HubSpot-Signature-v3` is the base64 HMAC-SHA256, under the app's
 * client secret, of `method + URI + body + X-HubSpot-Request-Timestamp`, the timestamp (ms)
 * within 5 minutes of now either way. v1/v2 (`X-HubSpot-Signature`, hex SHA-256 of
 * `secret + body` / `secret + method + URI + body`, no timestamp so replayable) are accepted
 * only when `settings.hubspotSignatureVersions` lists them. The body is an array of events.
 */
export function createHubspotSource(options: HubspotSourceOptions = {}): WebhookSource {
  const now = options.now ?? Date.now;
  return {
    name: "hubspot",
    secretRequired: true,
    verifyAndParse(request, endpoint) {
      const v3 = request.headers["x-hubspot-signature-v3"];
      if (v3 !== undefined) verifyV3(request, endpoint, v3, now());
      else verifyLegacy(request, endpoint, request.headers["x-hubspot-signature"]);

      let json: unknown;
      try {
        json = JSON.parse(request.rawBody.toString("utf8"));
      } catch {
        throw new WebhookPayloadError("body is not valid JSON", "malformed_json");
      }
      const payload = HubspotPayload.safeParse(json);
      if (!payload.success) {
        const issue = payload.error.issues[0];
        throw new WebhookPayloadError(
          `not a HubSpot webhook payload (an array of events): ${fieldPath(issue?.path ?? [])}: ${issue?.message}`,
        );
      }

      const events: WorkflowEvent[] = payload.data.map((e) => ({
        source: "hubspot",
        type: e.subscriptionType.toLowerCase(),
        id: hubspotEventKey(e),
        accountId: String(e.portalId),
        occurredAt: toIso(e.occurredAt),
        data: e,
      }));
      return { kind: "events", events };
    },
  };
}

/** The HubSpot source on the system clock. */
export const hubspotSource: WebhookSource = createHubspotSource();
