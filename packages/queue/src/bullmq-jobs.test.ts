import { NonRetriableError, RetryAfterError } from "@zixly/core";
import type { MinimalJob } from "bullmq";
import { describe, expect, it } from "vitest";
import {
  assertBullmqJobId,
  assertBullmqQueueName,
  contractBackoffStrategy,
  toBulkJob,
} from "./bullmq-jobs.js";

const defaults = { attempts: 3, backoff: { type: "exponential", delayMs: 1_000 } } as const;

/** Just the fields the backoff strategy reads. */
function jobWith(opts: MinimalJob["opts"]): MinimalJob {
  return { opts } as MinimalJob;
}

describe("toBulkJob", () => {
  it("maps a message onto a job that is removed when acked and kept when it fails", () => {
    expect(toBulkJob({ id: "m-1", body: { a: 1 }, delayMs: 250 }, defaults)).toEqual({
      name: "message",
      data: { a: 1 },
      opts: {
        jobId: "m-1",
        delay: 250,
        attempts: 3,
        backoff: { type: "zixly-exponential", delay: 1_000 },
        removeOnComplete: true,
        removeOnFail: false,
      },
    });
  });

  it("lets the message override attempts and backoff", () => {
    const { opts } = toBulkJob(
      { id: "m-2", body: null, attempts: 7, backoff: { type: "fixed", delayMs: 5 } },
      defaults,
    );
    expect(opts).toMatchObject({ attempts: 7, backoff: { type: "zixly-fixed", delay: 5 } });
  });
});

describe("contractBackoffStrategy", () => {
  const strategy = contractBackoffStrategy(0);

  it("backs off exponentially or fixed, as stored on the job", async () => {
    const exponential = jobWith({ attempts: 5, backoff: { type: "zixly-exponential", delay: 100 } });
    expect(await strategy(3, "zixly-exponential", new Error("x"), exponential)).toBe(400);
    const fixed = jobWith({ attempts: 5, backoff: { type: "zixly-fixed", delay: 100 } });
    expect(await strategy(3, "zixly-fixed", new Error("x"), fixed)).toBe(100);
  });

  it("returns -1 (do not retry) for a NonRetriableError", async () => {
    const job = jobWith({ attempts: 5, backoff: { type: "zixly-fixed", delay: 100 } });
    expect(await strategy(1, "zixly-fixed", new NonRetriableError("no"), job)).toBe(-1);
  });

  it("returns the RetryAfterError hint", async () => {
    const job = jobWith({ attempts: 5, backoff: { type: "zixly-exponential", delay: 100 } });
    expect(await strategy(2, "zixly-exponential", new RetryAfterError("429", 7_000), job)).toBe(7_000);
  });
});

describe("BullMQ naming rules", () => {
  it("rejects ids with ':' and integer ids, accepts the rest", () => {
    expect(() => assertBullmqJobId("tenant:1")).toThrow(TypeError);
    expect(() => assertBullmqJobId("123")).toThrow(/integers/);
    expect(() => assertBullmqJobId("evt-123")).not.toThrow();
    expect(() => assertBullmqJobId("0b6c1f8e-4c1d-4f7e-9a51-2d3c4b5a6f70")).not.toThrow();
  });

  it("rejects queue names with ':'", () => {
    expect(() => assertBullmqQueueName("a:b")).toThrow(TypeError);
    expect(() => assertBullmqQueueName("")).toThrow(TypeError);
    expect(() => assertBullmqQueueName("jobs")).not.toThrow();
  });
});
