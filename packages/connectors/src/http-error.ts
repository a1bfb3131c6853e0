import { STATUS_CODES } from "node:http";
import { NonRetriableError, RetryAfterError } from "@zixly/core";

/** The vendors Zixly has connectors for. */
export type ConnectorName = "xero" | "hubspot" | "shopify" | "asana";

/**
 * What went wrong on one vendor call, as a connector extracted it from its SDK's error — with
 * no request config, no headers we sent, nothing that could hold a credential.
 */
export interface VendorFailure {
  connector: ConnectorName;
  operation: string;
  /** HTTP status; `undefined` when no response came back (connection refused, reset, timeout). */
  httpStatus?: number;
  /** The vendor's own explanation (or the network error's), short and single-line. */
  detail?: string;
  /** Response headers, lower-case names. */
  headers?: Record<string, string>;
  /** A vendor-specific wait hint for a 429, used when `Retry-After` is absent. */
  retryAfterMs?: number;
}

/** Wait used for a 429 that names no delay at all. */
export const DEFAULT_RETRY_AFTER_MS = 60_000;

const MAX_DETAIL = 300;

/**
 * `Retry-After` in milliseconds: delta-seconds (`"2"`) or an HTTP date. `undefined` when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Remove credentials from text that came from outside: the known secrets themselves, and
 * anything shaped like a bearer or basic credential or a token field.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, "$1 [redacted]")
    .replace(
      /("?(?:access_token|refresh_token|authorization|client_secret)"?\s*[:=]\s*"?)[^"&,\s}]+/gi,
      "$1[redacted]",
    );
}

function oneLine(text: string): string {
  const flat = text
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > MAX_DETAIL ? `${flat.slice(0, MAX_DETAIL - 1)}…` : flat;
}

/** `true` when a status means "try again later" rather than "this request is wrong". */
export function isRetryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status < 400 || status >= 500;
}

/**
 * Turn a vendor failure into the error that steers retries (STYLE §5):
 * 4xx except 408/429 → {@link NonRetriableError}; 429 → {@link RetryAfterError} (`Retry-After`,
 * else the vendor's hint, else {@link DEFAULT_RETRY_AFTER_MS}); 5xx, 408, network → plain `Error`.
 *
 * The message is built here from the status and the vendor's words, e.g.
 * `xero getInvoice failed: 404 Not Found — The resource you're looking for cannot be found`;
 * `secrets` are scrubbed from it, and no SDK error is attached as `cause` (SDK errors carry
 * request configs with `Authorization` headers).
 */
export function toConnectorError(failure: VendorFailure, secrets: readonly string[] = []): Error {
  const { connector, operation, httpStatus } = failure;
  const detail = failure.detail ? oneLine(redact(failure.detail, secrets)) : "";
  const what =
    httpStatus === undefined
      ? "network error"
      : `${httpStatus} ${STATUS_CODES[httpStatus] ?? "Unknown Status"}`;
  const message = `${connector} ${operation} failed: ${what}${detail ? ` — ${detail}` : ""}`;

  if (httpStatus === 429) {
    const headerMs = parseRetryAfter(failure.headers?.["retry-after"]);
    const retryAfterMs = headerMs ?? failure.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS;
    return new RetryAfterError(`${message} (retry after ${Math.ceil(retryAfterMs / 1000)}s)`, retryAfterMs);
  }
  if (!isRetryableStatus(httpStatus)) return new NonRetriableError(message);
  return new Error(message);
}
