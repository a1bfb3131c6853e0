import { isNonRetriableError, NonRetriableError, RetryAfterError, retryAfterMsOf } from "@zixly/core";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_AFTER_MS, parseRetryAfter, redact, toConnectorError } from "./http-error.js";

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates, ignores junk", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter(" 0.5 ")).toBe(500);
    const now = Date.UTC(2024, 0, 1, 0, 0, 0);
    expect(parseRetryAfter("Mon, 01 Jan 2024 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Sun, 31 Dec 2023 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});

describe("toConnectorError", () => {
  const base = { connector: "xero" as const, operation: "getInvoice" };

  it("maps 4xx except 408/429 to NonRetriableError with status, reason and vendor words", () => {
    for (const status of [400, 401, 403, 404, 409, 422]) {
      const err = toConnectorError({ ...base, httpStatus: status, detail: "nope" });
      expect(err).toBeInstanceOf(NonRetriableError);
      expect(isNonRetriableError(err)).toBe(true);
    }
    expect(toConnectorError({ ...base, httpStatus: 404, detail: "missing" }).message).toBe(
      "xero getInvoice failed: 404 Not Found — missing",
    );
  });

  it("maps 429 to RetryAfterError: Retry-After, else the vendor hint, else the default", () => {
    const withHeader = toConnectorError({
      ...base,
      httpStatus: 429,
      headers: { "retry-after": "2" },
      retryAfterMs: 9000,
    });
    expect(withHeader).toBeInstanceOf(RetryAfterError);
    expect(retryAfterMsOf(withHeader)).toBe(2000);
    expect(retryAfterMsOf(toConnectorError({ ...base, httpStatus: 429, retryAfterMs: 9000 }))).toBe(9000);
    expect(retryAfterMsOf(toConnectorError({ ...base, httpStatus: 429 }))).toBe(DEFAULT_RETRY_AFTER_MS);
  });

  it("maps 5xx, 408 and network errors to plain, retryable Errors", () => {
    for (const httpStatus of [500, 502, 503, 408, undefined]) {
      const err = toConnectorError({ ...base, httpStatus, detail: "x" });
      expect(err.constructor).toBe(Error);
      expect(isNonRetriableError(err)).toBe(false);
      expect(retryAfterMsOf(err)).toBeUndefined();
    }
    expect(toConnectorError({ ...base, detail: "connect ECONNREFUSED 127.0.0.1:1" }).message).toBe(
      "xero getInvoice failed: network error — connect ECONNREFUSED 127.0.0.1:1",
    );
  });

  it("scrubs secrets and credential-shaped text, flattens HTML, bounds the length", () => {
    const err = toConnectorError(
      {
        ...base,
        httpStatus: 400,
        detail: `<p>bad token s3cr3t-token</p> Authorization: Bearer abc.def "refresh_token":"r1" ${"x".repeat(500)}`,
      },
      ["s3cr3t-token"],
    );
    expect(err.message).not.toContain("s3cr3t-token");
    expect(err.message).not.toContain("abc.def");
    expect(err.message).not.toContain('"r1"');
    expect(err.message).not.toContain("<p>");
    expect(err.message.length).toBeLessThan(400);
    expect(redact("Basic dXNlcjpwYXNz", [])).toBe("Basic [redacted]");
  });
});
