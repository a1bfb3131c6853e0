import { NonRetriableError, RetryAfterError } from "@zixly/core";
import { describe, expect, it } from "vitest";
import { backoffDelayMs, decideRetry } from "./retry-decision.js";

const exponential = { type: "exponential", delayMs: 1_000 } as const;
const base = { attempt: 1, maxAttempts: 5, backoff: exponential, maxDelayMs: 60_000, random: () => 0.5 };

describe("decideRetry", () => {
  it("fails at once on a NonRetriableError, even with attempts left", () => {
    expect(decideRetry({ ...base, error: new NonRetriableError("bad") })).toEqual({
      retry: false,
      reason: "non-retriable",
    });
    expect(decideRetry({ ...base, error: { name: "NonRetriableError", message: "copy" } }).retry).toBe(false);
  });

  it("fails after the last attempt, Retry-After or not", () => {
    expect(decideRetry({ ...base, attempt: 5, error: new RetryAfterError("429", 10) })).toEqual({
      retry: false,
      reason: "attempts-exhausted",
    });
  });

  it("waits what a RetryAfterError asks, uncapped", () => {
    expect(decideRetry({ ...base, error: new RetryAfterError("429", 120_000) })).toEqual({
      retry: true,
      delayMs: 120_000,
      reason: "retry-after",
    });
  });

  it("backs off otherwise", () => {
    expect(decideRetry({ ...base, attempt: 3, error: new Error("503") })).toEqual({
      retry: true,
      delayMs: 4_000,
      reason: "backoff",
    });
  });
});

describe("backoffDelayMs", () => {
  it("doubles per attempt with ±20 % jitter, capped; fixed stays fixed", () => {
    expect(backoffDelayMs(exponential, 1, 60_000, () => 0)).toBe(800);
    expect(backoffDelayMs(exponential, 2, 60_000, () => 0.999_999)).toBe(2_400);
    expect(backoffDelayMs(exponential, 10, 60_000, () => 0.5)).toBe(60_000);
    expect(backoffDelayMs({ type: "fixed", delayMs: 500 }, 7, 60_000, () => 0.5)).toBe(500);
  });
});
