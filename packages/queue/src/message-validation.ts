/**
 * Checks every driver applies before touching its backend, so a caller's bug fails fast with
 * a clear message instead of a backend-specific error (or, worse, a silently coerced value).
 */
import type { BackoffPolicy, ConsumeOptions, QueueMessage } from "./queue-driver.js";

function isNonNegativeFinite(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}

/** Throws a `TypeError`/`RangeError` naming the first invalid field of `backoff`. */
export function assertBackoff(backoff: BackoffPolicy, where: string): void {
  if (backoff.type !== "exponential" && backoff.type !== "fixed") {
    throw new TypeError(`${where}: backoff.type must be "exponential" or "fixed"`);
  }
  if (!isNonNegativeFinite(backoff.delayMs)) {
    throw new RangeError(`${where}: backoff.delayMs must be a finite number ≥ 0`);
  }
}

/** Throws a `TypeError`/`RangeError` naming the first invalid message and field. */
export function assertMessages(messages: readonly QueueMessage<unknown>[]): void {
  messages.forEach((message, index) => {
    const where = `message ${index}`;
    if (typeof message.id !== "string" || message.id.length === 0) {
      throw new TypeError(`${where}: id must be a non-empty string`);
    }
    if (message.delayMs !== undefined && !isNonNegativeFinite(message.delayMs)) {
      throw new RangeError(`${where} (${message.id}): delayMs must be a finite number ≥ 0`);
    }
    if (message.attempts !== undefined && !(Number.isInteger(message.attempts) && message.attempts >= 1)) {
      throw new RangeError(`${where} (${message.id}): attempts must be an integer ≥ 1`);
    }
    if (message.backoff !== undefined) assertBackoff(message.backoff, `${where} (${message.id})`);
  });
}

/** Throws a `RangeError` unless `concurrency` is a positive integer. */
export function assertConsumeOptions(opts: ConsumeOptions): void {
  if (!(Number.isInteger(opts.concurrency) && opts.concurrency >= 1)) {
    throw new RangeError("consume: concurrency must be an integer ≥ 1");
  }
}
