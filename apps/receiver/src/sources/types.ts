import type { WorkflowEvent } from "@zixly/workflows";

/** What a source needs from an HTTP request to verify and parse a delivery. */
export interface SourceRequest {
  method: string;
  /** The full URL the sender called (scheme, host, path and query), for signatures that cover it. */
  url: string;
  /** Header names lower-cased. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received: signatures are computed over these bytes. */
  rawBody: Buffer;
}

/** The endpoint's verification material, decrypted for the duration of one request. */
export interface SourceEndpoint {
  id: string;
  /** Current secret first; a second one verifies during a rotation. */
  secrets: readonly string[];
  settings: Readonly<Record<string, unknown>>;
}

/**
 * The outcome of a delivery: either events to persist, or a reply the source's protocol
 * demands that stores nothing (Xero's intent-to-receive, Asana's handshake and heartbeats).
 */
export type SourceResult =
  | { kind: "events"; events: WorkflowEvent[] }
  | {
      kind: "reply";
      status: number;
      headers?: Record<string, string>;
      body?: string;
      outcome: "handshake" | "heartbeat" | "bad_signature";
      /** A secret the sender issued in this request (Asana's X-Hook-Secret): stored as the endpoint's secret before replying. */
      learnedSecret?: string;
    };

/** A webhook sender's rules: how it signs, what its payload looks like, how events are named. */
export interface WebhookSource {
  readonly name: string;
  /** Whether an endpoint of this source must be created with the vendor-issued secret. */
  readonly secretRequired: boolean;
  /** Verifies the signature, then parses and normalises. Throws {@link WebhookVerificationError} or {@link WebhookPayloadError}. */
  verifyAndParse(request: SourceRequest, endpoint: SourceEndpoint): SourceResult;
}

/** The signature (or its timestamp) did not verify: 401, nothing stored. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
}

/** The signature verified but the body is not what the sender documents: 400, nothing stored. */
export class WebhookPayloadError extends Error {
  override readonly name = "WebhookPayloadError";
  constructor(
    message: string,
    readonly code: "malformed_json" | "invalid_payload" = "invalid_payload",
  ) {
    super(message);
  }
}
