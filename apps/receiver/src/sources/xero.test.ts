import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WebhookPayloadError, WebhookVerificationError } from "./types.js";
import { xeroEventKey, xeroEventType, xeroSource } from "./xero.js";

const key = "Hx9hPsL2ea1dAaGfXqBxRZAhFwgJdKAjZBS5bHm2X5J/k8U0xjC5rtVHXHYCnW1kPzEgMyIbV8yOcq7xHIfhAQ==";
const sign = (body: string, k = key) => createHmac("sha256", k).update(body).digest("base64");
const endpoint = { id: "e1", secrets: [key], settings: {} };
const event = {
  resourceUrl: "https://api.xero.com/api.xro/2.0/Invoices/inv-1",
  resourceId: "inv-1",
  eventDateUtc: "2026-11-21T09:15:39.902",
  eventType: "UPDATE",
  eventCategory: "INVOICE",
  tenantId: "t-1",
  tenantType: "ORGANISATION",
};
const body = JSON.stringify({ events: [event], firstEventSequence: 1, lastEventSequence: 1, entropy: "ABC" });
const request = (raw: string, signature: string | undefined) => ({
  method: "POST",
  url: "https://zixly.example/webhooks/e1",
  headers: { "x-xero-signature": signature },
  rawBody: Buffer.from(raw),
});

describe("xero source", () => {
  it("accepts a body signed with the webhook key and normalises its events", () => {
    const result = xeroSource.verifyAndParse(request(body, sign(body)), endpoint);
    expect(result).toEqual({
      kind: "events",
      events: [
        {
          source: "xero",
          type: "invoice.updated",
          id: xeroEventKey(event),
          accountId: "t-1",
          occurredAt: "2026-11-21T09:15:39.902Z",
          data: event,
        },
      ],
    });
  });

  it("rejects a one-byte change of body, signature or key", () => {
    const good = sign(body);
    const flipped = `${good.slice(0, 5)}${good[5] === "A" ? "B" : "A"}${good.slice(6)}`;
    expect(() => xeroSource.verifyAndParse(request(body.replace("inv-1", "inv-2"), good), endpoint)).toThrow(
      WebhookVerificationError,
    );
    expect(() => xeroSource.verifyAndParse(request(body, flipped), endpoint)).toThrow(
      WebhookVerificationError,
    );
    expect(() => xeroSource.verifyAndParse(request(body, sign(body, `${key}x`)), endpoint)).toThrow(
      WebhookVerificationError,
    );
    expect(() => xeroSource.verifyAndParse(request(body, undefined), endpoint)).toThrow(
      WebhookVerificationError,
    );
  });

  it("verifies with either secret during a rotation", () => {
    const rotating = { ...endpoint, secrets: ["new-key-000000", key] };
    expect(xeroSource.verifyAndParse(request(body, sign(body)), rotating).kind).toBe("events");
    expect(xeroSource.verifyAndParse(request(body, sign(body, "new-key-000000")), rotating).kind).toBe(
      "events",
    );
  });

  it("answers intent-to-receive with 200 or 401 and an empty body", () => {
    const itr = JSON.stringify({ events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: "XYZ" });
    expect(xeroSource.verifyAndParse(request(itr, sign(itr)), endpoint)).toMatchObject({
      kind: "reply",
      status: 200,
      body: "",
    });
    expect(xeroSource.verifyAndParse(request(itr, sign(itr, "other")), endpoint)).toMatchObject({
      kind: "reply",
      status: 401,
      body: "",
    });
  });

  it("refuses malformed JSON and non-Xero payloads after a valid signature", () => {
    const bad = "{not json";
    expect(() => xeroSource.verifyAndParse(request(bad, sign(bad)), endpoint)).toThrow(WebhookPayloadError);
    const wrong = JSON.stringify({ events: [{ resourceId: 1 }] });
    expect(() => xeroSource.verifyAndParse(request(wrong, sign(wrong)), endpoint)).toThrow(
      /not a Xero webhook payload/,
    );
  });

  it("derives the same key for a re-delivered event and another for a different one", () => {
    expect(xeroEventKey(event)).toBe(xeroEventKey({ ...event }));
    expect(xeroEventKey(event)).not.toBe(xeroEventKey({ ...event, eventDateUtc: "2026-11-21T09:15:40.000" }));
    expect(xeroEventType({ eventCategory: "CONTACT", eventType: "CREATE" })).toBe("contact.created");
  });

  it("never accepts random bytes without a valid signature and never throws anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.option(fc.string()), (bytes, signature) => {
        const req = { ...request("", signature ?? undefined), rawBody: Buffer.from(bytes) };
        try {
          const result = xeroSource.verifyAndParse(req, endpoint);
          expect(result.kind === "reply" ? result.status : 0).toBe(401);
        } catch (err) {
          expect(err).toBeInstanceOf(WebhookVerificationError);
        }
      }),
    );
  });
});
