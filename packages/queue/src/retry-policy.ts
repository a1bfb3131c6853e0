/**
 * The retry rules of the contract as one pure function, so every driver decides the same way
 * and the rules are unit-testable without a backend.
 */
import { isNonRetriableError, retryAfterMsOf } from "@zixly/core";
import type { BackoffPolicy } from "./queue-driver.js";

/** Largest jitter the contract allows (±10%). */
export const MAX_JITTER = 0.1;

/** What to do with a message whose attempt just failed. */
export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: "non-retriable" | "exhausted" };

/** Inputs of {@link decideRetry}. */
export interface RetryInput {
  /** What the handler threw. */
  error: unknown;
  /** 1-based number of the attempt that failed. */
  attempt: number;
  /** The message's attempt limit. */
  maxAttempts: number;
  /** The message's backoff. */
  backoff: BackoffPolicy;
  /** Jitter fraction in [0, {@link MAX_JITTER}]; 0 for exact delays. */
  jitter: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Decide whether and when to retry: `NonRetriableError` → dead-letter now; no attempts left →
 * dead-letter; a `RetryAfterError` hint → exactly that delay (the vendor asked for it, so no
 * jitter that could undercut it); otherwise the backoff with jitter.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  if (isNonRetriableError(input.error)) return { retry: false, reason: "non-retriable" };
  if (input.attempt >= input.maxAttempts) return { retry: false, reason: "exhausted" };
  const hint = retryAfterMsOf(input.error);
  if (hint !== undefined) return { retry: true, delayMs: Math.max(0, Math.round(hint)) };
  return { retry: true, delayMs: backoffDelayMs(input.backoff, input.attempt, input.jitter, input.random) };
}

/** The backoff delay after attempt `attempt` (1-based) failed, with jitter applied. */
export function backoffDelayMs(
  backoff: BackoffPolicy,
  attempt: number,
  jitter: number,
  random: () => number = Math.random,
): number {
  const base =
    backoff.type === "exponential" ? backoff.delayMs * 2 ** Math.max(0, attempt - 1) : backoff.delayMs;
  const spread = Math.min(Math.max(jitter, 0), MAX_JITTER);
  return Math.max(0, Math.round(base * (1 + spread * (2 * random() - 1))));
}
