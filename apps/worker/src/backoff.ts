import type { RetryPolicy } from "@zixly/workflows";

/**
 * Delay before attempt `attempt + 1` under `policy`: exponential (`delayMs · 2^(attempt-1)`)
 * or fixed, with ±20 % jitter so a burst of failures does not retry in lock-step, capped.
 */
export function backoffDelayMs(
  policy: RetryPolicy["backoff"],
  attempt: number,
  capMs: number,
  random = Math.random,
): number {
  const base =
    policy.type === "exponential" ? policy.delayMs * 2 ** Math.max(0, attempt - 1) : policy.delayMs;
  const jittered = base * (0.8 + random() * 0.4);
  return Math.round(Math.min(capMs, jittered));
}
