import { type Logger, type LoggerOptions, pino } from "pino";

/**
 * Paths whose values never reach a log line: credentials, signatures and personal data.
 * pino replaces them with "[redacted]" before serialising.
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

export const redactedPaths: readonly string[] = [
  ...sensitiveKeys.flatMap((key) => [key, `*.${key}`]),
  ...sensitiveHeaders.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
];

export interface CreateLoggerOptions {
  name: string;
  level?: string;
  /** Where lines go (default stdout); tests pass a stream to inspect output. */
  destination?: pino.DestinationStream;
}

/** A JSON logger with Zixly's redaction rules. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? "info",
    redact: { paths: [...redactedPaths], censor: "[redacted]" },
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

export type { Logger } from "pino";
