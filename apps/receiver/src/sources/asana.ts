import { sha256Hex } from "@zixly/core";
import type { WorkflowEvent } from "@zixly/workflows";
import { z } from "zod";
import { hmacSha256, matchesAnySecret } from "./hmac.js";
import {
  type SourceEndpoint,
  type SourceRequest,
  type SourceResult,
  WebhookPayloadError,
  WebhookVerificationError,
} from "./types.js";

/**
 * What the Asana source answers: `SourceResult`, whose reply variant also carries the
 * `heartbeat` outcome and, on the first handshake, the secret the receiver must store.
 * (Mirrors the proposed `types.ts` change; once it lands this is just `SourceResult`.)
 */
export type AsanaSourceResult =
  | Extract<SourceResult, { kind: "events" }>
  | {
      kind: "reply";
      status: number;
      headers?: Record<string, string>;
      body?: string;
      outcome: "handshake" | "heartbeat";
      /** Set on a first handshake: the receiver stores it as the endpoint's secret before replying. */
      learnedSecret?: string;
    };

const Compact = z.looseObject({ gid: z.string().min(1), resource_type: z.string().min(1) });
/** One Asana event as webhooks deliver it (compact records, no event id). Unknown fields are kept. */
const AsanaEvent = z.looseObject({
  user: z
    .looseObject({ gid: z.string().min(1) })
    .nullable()
    .optional(),
  created_at: z.string().min(1),
  action: z.string().min(1),
  resource: Compact,
  parent: Compact.nullable().optional(),
  change: z.looseObject({ field: z.string(), action: z.string() }).optional(),
});
const AsanaPayload = z.looseObject({ events: z.array(AsanaEvent) });
export type AsanaWebhookEvent = z.infer<typeof AsanaEvent>;

/** An X-Hook-Secret we can store and echo: the endpoint API's secret bounds, visible ASCII only. */
const HOOK_SECRET = /^[\x21-\x7e]{8,1024}$/;

/**
 * JSON with object keys sorted, so a key does not depend on the order Asana wrote them in.
 * Nesting deeper than Asana's compact records is cut off rather than recursed into.
 */
function canonicalJson(value: unknown, depth = 0): string {
  if (depth > 16) return '"…"';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * Asana's events carry no id; these fields identify one (a re-delivery repeats them all): who,
 * when, what was done to which resource under which parent, and the change itself (field,
 * action and the value added, removed or set, so two tags added in the same instant differ).
 */
export function asanaEventKey(e: AsanaWebhookEvent): string {
  return sha256Hex(
    [
      e.user?.gid ?? "",
      e.created_at,
      e.action,
      e.resource.resource_type,
      e.resource.gid,
      e.parent?.gid ?? "",
      e.change === undefined ? "" : canonicalJson(e.change),
    ].join("\n"),
  );
}

/** `task` + `changed` → `task.changed`; `resource_subtype` stays in `data` for filters. */
export function asanaEventType(e: AsanaWebhookEvent): string {
  return `${e.resource.resource_type}.${e.action}`.toLowerCase();
}

function toIso(value: string): string | undefined {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out || "(body)";
}

/**
 * The X-Hook-Secret handshake. Asana sends it when a webhook is created, unauthenticated, so
 * only an endpoint with no secret yet learns one; repeating the stored secret is answered
 * again (a retried handshake), and any other secret is refused: re-pointing an endpoint at a
 * new Asana webhook means clearing its secret (or creating a new endpoint) first.
 */
function handshake(hookSecret: string, endpoint: SourceEndpoint): AsanaSourceResult {
  if (!HOOK_SECRET.test(hookSecret)) {
    throw new WebhookPayloadError("X-Hook-Secret header must be 8 to 1024 visible ASCII characters");
  }
  const reply = {
    kind: "reply",
    status: 200,
    headers: { "X-Hook-Secret": hookSecret },
    body: "",
    outcome: "handshake",
  } as const;
  if (endpoint.secrets.length === 0) return { ...reply, learnedSecret: hookSecret };
  if (matchesAnySecret(endpoint.secrets, hookSecret, (secret) => secret)) return reply;
  throw new WebhookVerificationError(
    "X-Hook-Secret handshake refused: this endpoint already has a secret from an earlier handshake",
  );
}

/**
 * Asana webhooks. A POST with `X-Hook-Secret` is the handshake (answered `200` echoing the
 * header). Every delivery after it carries `X-Hook-Signature`, the hex HMAC-SHA256 of the raw
 * body under that secret; `{"events": []}` is a heartbeat, answered `200` and stored nowhere.
 */
export const asanaSource = {
  name: "asana",
  secretRequired: false,
  verifyAndParse(request: SourceRequest, endpoint: SourceEndpoint): AsanaSourceResult {
    const hookSecret = request.headers["x-hook-secret"];
    if (hookSecret !== undefined) return handshake(hookSecret, endpoint);

    if (endpoint.secrets.length === 0) {
      throw new WebhookVerificationError(
        "this endpoint has no secret yet: Asana's X-Hook-Secret handshake must come first",
      );
    }
    const signature = request.headers["x-hook-signature"]?.trim().toLowerCase();
    const verified = matchesAnySecret(endpoint.secrets, signature, (secret) =>
      hmacSha256(secret, request.rawBody, "hex"),
    );
    if (!verified) throw new WebhookVerificationError("X-Hook-Signature does not match the body");

    let json: unknown;
    try {
      json = JSON.parse(request.rawBody.toString("utf8"));
    } catch {
      throw new WebhookPayloadError("body is not valid JSON", "malformed_json");
    }
    const payload = AsanaPayload.safeParse(json);
    if (!payload.success) {
      const issue = payload.error.issues[0];
      throw new WebhookPayloadError(
        `not an Asana webhook payload: ${fieldPath(issue?.path ?? [])}: ${issue?.message}`,
      );
    }
    if (payload.data.events.length === 0)
      return { kind: "reply", status: 200, body: "", outcome: "heartbeat" };

    const events: WorkflowEvent[] = payload.data.events.map((e) => ({
      source: "asana",
      type: asanaEventType(e),
      id: asanaEventKey(e),
      accountId: undefined,
      occurredAt: toIso(e.created_at),
      data: e,
    }));
    return { kind: "events", events };
  },
};
