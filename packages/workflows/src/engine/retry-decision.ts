import { isNonRetriableError, retryAfterMsOf } from "@zixly/core";
import type { RetryPolicy } from "../define-workflow.js";

/** What to do after an attempt of a job failed. */
export type RetryDecision =
  | { retry: false; reason: "non-retriable" | "attempts-exhausted" }
  | { retry: true; delayMs: number; reason: "retry-after" | "backoff" };

/**
 * The worker's retry rule, as one function: a {@link NonRetriableError} fails the job at
 * once; so does the last allowed attempt; otherwise the job runs again after the delay a
 * `RetryAfterError` names, or else after the policy's backoff (with jitter, capped).
 * The worker and the test engine both use it, so tests see the retries production makes.
 */
export function decideRetry(input: {
  error: unknown;
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  maxAttempts: number;
  backoff: RetryPolicy["backoff"];
  /** Upper bound on a backoff delay (the worker's `RETRY_MAX_DELAY_MS`); a Retry-After is not capped. */
  maxDelayMs: number;
  /** Jitter source in [0, 1); `Math.random` in the worker. */
  random?: () => number;
}): RetryDecision {
  if (isNonRetriableError(input.error)) return { retry: false, reason: "non-retriable" };
  if (input.attempt >= input.maxAttempts) return { retry: false, reason: "attempts-exhausted" };
  const retryAfterMs = retryAfterMsOf(input.error);
  if (retryAfterMs !== undefined) return { retry: true, delayMs: retryAfterMs, reason: "retry-after" };
  return {
    retry: true,
    delayMs: backoffDelayMs(input.backoff, input.attempt, input.maxDelayMs, input.random),
    reason: "backoff",
  };
}

/**
 * Delay before attempt `attempt + 1` under `policy`: exponential (`delayMs · 2^(attempt-1)`)
 * or fixed, with ±20 % jitter so a burst of failures does not retry in lock-step, capped.
 */
export function backoffDelayMs(
  policy: RetryPolicy["backoff"],
  attempt: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const base =
    policy.type === "exponential" ? policy.delayMs * 2 ** Math.max(0, attempt - 1) : policy.delayMs;
  const jittered = base * (0.8 + random() * 0.4);
  return Math.round(Math.min(capMs, jittered));
}
