import { describe, expect, it } from "vitest";
import {
  isNonRetriableError,
  NonRetriableError,
  RetryAfterError,
  retryAfterMsOf,
  serializeError,
} from "./errors.js";

describe("retry-steering errors", () => {
  it("recognises errors by class and by name", () => {
    expect(isNonRetriableError(new NonRetriableError("x"))).toBe(true);
    expect(isNonRetriableError(Object.assign(new Error("x"), { name: "NonRetriableError" }))).toBe(true);
    expect(isNonRetriableError(new Error("x"))).toBe(false);
    expect(retryAfterMsOf(new RetryAfterError("slow down", 2000))).toBe(2000);
    expect(retryAfterMsOf(new Error("x"))).toBeUndefined();
  });

  it("serialises message, stack and cause", () => {
    const s = serializeError(new NonRetriableError("outer", { cause: new Error("inner") }));
    expect(s).toMatchObject({
      name: "NonRetriableError",
      message: "outer",
      retryable: false,
      cause: { message: "inner" },
    });
    expect(s.stack).toContain("outer");
  });
});
