import { type Logger, type LoggerOptions, pino } from "pino";

/**
 * Paths whose values never reach a log line: credentials, signatures and personal data.
 * They are replaced with "[redacted]" before serialising (see {@link redactSensitive}).
 */
const sensitiveHeaders = [
  "authorization",
  "cookie",
  "x-xero-signature",
  "x-hubspot-signature",
  "x-hubspot-signature-v3",
  "x-shopify-hmac-sha256",
  "x-hook-secret",
  "x-hook-signature",
  "webhook-signature",
];
const sensitiveKeys = [
  "authorization",
  "accessToken",
  "refreshToken",
  "access_token",
  "refresh_token",
  "credentials",
  "secret",
  "secrets",
  "apiKey",
  "password",
  "email",
  "emailAddress",
];

/** The same rules as pino redaction paths (documentation, and for tools that take paths). */
export const redactedPaths: readonly string[] = [
  ...sensitiveKeys.flatMap((key) => [key, `*.${key}`]),
  ...sensitiveHeaders.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
];

const CENSOR = "[redacted]";
const SENSITIVE_KEYS = new Set(sensitiveKeys.map((k) => k.toLowerCase()));
const SENSITIVE_HEADERS = new Set(sensitiveHeaders);
/** How deep redaction looks (pino's paths above reached 2; deeper is stricter). */
const MAX_DEPTH = 6;

/**
 * `value` with every sensitive key's value replaced by "[redacted]": keys in `sensitiveKeys`
 * at any depth up to {@link MAX_DEPTH}, and sensitive header names under a `headers` object.
 * Copy on write: a value with nothing to redact is returned as is, without allocating. This
 * replaces pino's path-based `redact`, whose twenty-odd wildcard paths cost about 40 µs per
 * line — the largest single cost of a webhook request and of a job once both were batched.
 */
export function redactSensitive<T>(value: T, depth = 0): T {
  if (typeof value !== "object" || value === null || depth > MAX_DEPTH) return value;
  if (value instanceof Error || value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as unknown;
      const redacted = redactSensitive(item, depth + 1);
      if (redacted !== item) {
        copy ??= value.slice();
        copy[i] = redacted;
      }
    }
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    const item = source[key];
    let redacted: unknown;
    if (SENSITIVE_KEYS.has(key.toLowerCase())) redacted = item === undefined ? item : CENSOR;
    else if (key === "headers" && typeof item === "object" && item !== null)
      redacted = redactHeaders(item, depth);
    else redacted = redactSensitive(item, depth + 1);
    if (redacted !== item) {
      copy ??= { ...source };
      copy[key] = redacted;
    }
  }
  return (copy ?? value) as T;
}

function redactHeaders(headers: object, depth: number): unknown {
  const cleaned = redactSensitive(headers, depth + 1) as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const name of Object.keys(cleaned)) {
    if (SENSITIVE_HEADERS.has(name.toLowerCase()) && cleaned[name] !== CENSOR) {
      copy ??= { ...cleaned };
      copy[name] = CENSOR;
    }
  }
  return copy ?? cleaned;
}

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** Where lines go (default stdout); tests pass a stream to inspect output. */
  destination?: pino.DestinationStream;
}

/** A JSON logger with Zixly's redaction rules (applied to fields, errors and child bindings). */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? "info",
    // Fields of each line: the fast walk below. Child-logger bindings bypass pino's
    // formatters, so its own redaction still covers their top-level keys (cheap without
    // wildcard paths).
    redact: { paths: redactedPaths.filter((path) => !path.startsWith("*")), censor: CENSOR },
    formatters: { log: (object) => redactSensitive(object) },
    // Errors are serialised after `formatters.log`: redact what the serialiser exposes.
    serializers: {
      err: (err: unknown) => redactSensitive(pino.stdSerializers.err(err as Error)),
    },
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

export type { Logger } from "pino";
