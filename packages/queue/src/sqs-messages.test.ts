import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  assertSqsMessageId,
  deadLetterEntryOf,
  decodeMessage,
  delaySecondsFor,
  envelopeOf,
  SQS_ATTRIBUTES,
  sendEntryOf,
  serializeBody,
} from "./sqs-messages.js";

const defaults = { attempts: 3, backoff: { type: "exponential" as const, delayMs: 1_000 } };

/** What SQS hands back for a sent entry. */
function received(entry: ReturnType<typeof sendEntryOf>, extra: Partial<Message> = {}): Message {
  return { MessageId: "m-1", Body: entry.MessageBody, MessageAttributes: entry.MessageAttributes, ...extra };
}

describe("sqs messages", () => {
  it("rounds delays up to whole seconds and caps them at one SQS delay", () => {
    expect(delaySecondsFor(0, 900)).toBe(0);
    expect(delaySecondsFor(1, 900)).toBe(1);
    expect(delaySecondsFor(1_000, 900)).toBe(1);
    expect(delaySecondsFor(1_001, 900)).toBe(2);
    expect(delaySecondsFor(3_600_000, 900)).toBe(900);
  });

  it("marks delays longer than one SQS delay with a not-before time", () => {
    const now = 1_000_000;
    expect(
      envelopeOf({ id: "a", body: 1, delayMs: 900_000 }, defaults, undefined, now, 900).notBefore,
    ).toBeUndefined();
    expect(envelopeOf({ id: "a", body: 1, delayMs: 900_001 }, defaults, undefined, now, 900).notBefore).toBe(
      now + 900_001,
    );
  });

  it("round-trips a message through its attributes", () => {
    const envelope = envelopeOf(
      { id: "job-1", body: { jobId: "1" }, attempts: 5, backoff: { type: "fixed", delayMs: 250 } },
      defaults,
      "claim-token",
      0,
      900,
    );
    const decoded = decodeMessage(received(sendEntryOf(envelope, 0, 900)), defaults);
    expect(decoded).toEqual({ ok: true, envelope });
  });

  it("decodes a foreign message with SQS's id and receive count, as not ok", () => {
    const decoded = decodeMessage(
      { MessageId: "sqs-id", Body: "hello", Attributes: { ApproximateReceiveCount: "2" } },
      defaults,
    );
    expect(decoded.ok).toBe(false);
    expect(decoded.envelope).toMatchObject({ id: "sqs-id", attempt: 2, maxAttempts: 3 });
  });

  it("escapes the non-characters SQS refuses and keeps the JSON meaning", () => {
    const json = serializeBody({ s: "a\uFFFFb\uFFFE" }, "test");
    expect(json).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(json)).toEqual({ s: "a\uFFFFb\uFFFE" });
    expect(() => serializeBody(undefined, "test")).toThrow(TypeError);
  });

  it("rejects ids SQS cannot carry", () => {
    expect(() => assertSqsMessageId("ok-id")).not.toThrow();
    expect(() => assertSqsMessageId("bad\u0000id")).toThrow(TypeError);
  });

  it("keeps why, where and when in a dead letter, with text SQS accepts", () => {
    const envelope = envelopeOf({ id: "x", body: 1 }, defaults, undefined, 0, 900);
    const entry = deadLetterEntryOf(envelope, "boom\u0000!", "jobs", 42);
    expect(entry.MessageAttributes?.[SQS_ATTRIBUTES.error]?.StringValue).toBe("boom\uFFFD!");
    expect(entry.MessageAttributes?.[SQS_ATTRIBUTES.queue]?.StringValue).toBe("jobs");
    expect(entry.MessageAttributes?.[SQS_ATTRIBUTES.deadAt]?.StringValue).toBe("42");
  });
});
