import { NonRetriableError, RetryAfterError } from "@zixly/core";
import { describe, expect, it } from "vitest";
import { backoffDelayMs, decideRetry } from "./retry-policy.js";

const exponential = { type: "exponential", delayMs: 100 } as const;
const base = { attempt: 1, maxAttempts: 3, backoff: exponential, jitter: 0 };

describe("decideRetry", () => {
  it("dead-letters a NonRetriableError even with attempts left", () => {
    expect(decideRetry({ ...base, error: new NonRetriableError("bad input") })).toEqual({
      retry: false,
      reason: "non-retriable",
    });
  });

  it("recognises errors by name across package copies", () => {
    const foreign = Object.assign(new Error("gone"), { name: "NonRetriableError" });
    expect(decideRetry({ ...base, error: foreign }).retry).toBe(false);
  });

  it("dead-letters when the last attempt fails", () => {
    expect(decideRetry({ ...base, attempt: 3, error: new Error("boom") })).toEqual({
      retry: false,
      reason: "exhausted",
    });
  });

  it("uses a RetryAfterError hint instead of the backoff, without jitter", () => {
    const error = new RetryAfterError("429", 5_000);
    expect(decideRetry({ ...base, attempt: 2, jitter: 0.1, error, random: () => 0 })).toEqual({
      retry: true,
      delayMs: 5_000,
    });
  });

  it("still dead-letters an exhausted message that carries a hint", () => {
    expect(decideRetry({ ...base, attempt: 3, error: new RetryAfterError("429", 10) }).retry).toBe(false);
  });

  it("backs off exponentially from the first failure", () => {
    const delays = [1, 2, 3].map((attempt) =>
      decideRetry({ ...base, maxAttempts: 5, attempt, error: new Error("x") }),
    );
    expect(delays).toEqual([
      { retry: true, delayMs: 100 },
      { retry: true, delayMs: 200 },
      { retry: true, delayMs: 400 },
    ]);
  });
});

describe("backoffDelayMs", () => {
  it("keeps fixed delays fixed", () => {
    expect(backoffDelayMs({ type: "fixed", delayMs: 250 }, 4, 0)).toBe(250);
  });

  it("spreads by at most the jitter fraction", () => {
    expect(backoffDelayMs(exponential, 2, 0.1, () => 0)).toBe(180);
    expect(backoffDelayMs(exponential, 2, 0.1, () => 0.999_999)).toBe(220);
  });

  it("caps jitter at ±10% whatever is configured", () => {
    expect(backoffDelayMs(exponential, 1, 0.9, () => 0)).toBe(90);
  });
});
