/**
 * Errors that steer retries. Every layer (connectors, workflow steps, queue drivers) throws
 * these; checks go through {@link isNonRetriableError} / {@link retryAfterMsOf}, which also
 * match by `name` so errors crossing package copies or serialisation still count.
 */

/** Fail now: retrying cannot help (bad input, 4xx from a vendor, revoked credentials). */
export class NonRetriableError extends Error {
  override readonly name = "NonRetriableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Retry, but not before `retryAfterMs` (a vendor's 429 `Retry-After`, a known outage window). */
export class RetryAfterError extends Error {
  override readonly name = "RetryAfterError";
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.retryAfterMs = Math.max(0, Math.round(retryAfterMs));
  }
}

function nameOf(err: unknown): string | undefined {
  return typeof err === "object" && err !== null && "name" in err && typeof err.name === "string"
    ? err.name
    : undefined;
}

/** True for {@link NonRetriableError} (or anything named like it). */
export function isNonRetriableError(err: unknown): boolean {
  return err instanceof NonRetriableError || nameOf(err) === "NonRetriableError";
}

/** The retry delay an error asks for, or `undefined` when it names none. */
export function retryAfterMsOf(err: unknown): number | undefined {
  if (err instanceof RetryAfterError) return err.retryAfterMs;
  if (nameOf(err) === "RetryAfterError") {
    const ms = (err as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof ms === "number" && Number.isFinite(ms)) return ms;
  }
  return undefined;
}

/** A JSON-safe description of an error for job records (message, name, stack, cause chain). */
export interface SerializedError {
  message: string;
  name: string;
  stack?: string;
  retryable: boolean;
  retryAfterMs?: number;
  cause?: SerializedError;
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) {
    return {
      name: "Error",
      message: typeof err === "string" ? err : (JSON.stringify(err) ?? String(err)),
      retryable: true,
    };
  }
  const out: SerializedError = {
    name: err.name,
    message: err.message,
    retryable: !isNonRetriableError(err),
  };
  if (err.stack) out.stack = err.stack;
  const retryAfterMs = retryAfterMsOf(err);
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  return out;
}
