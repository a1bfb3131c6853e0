import { createHmac } from "node:crypto";
import "@shopify/shopify-api/adapters/web-api";
import { ApiVersion, LogSeverity, shopifyApi } from "@shopify/shopify-api";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shopifyEventType, shopifySource } from "./shopify.js";
import {
  type SourceEndpoint,
  type SourceRequest,
  type SourceResult,
  WebhookPayloadError,
  WebhookVerificationError,
} from "./types.js";

const SECRET = "shpss_current_client_secret_0123456789";
const PREVIOUS = "shpss_previous_client_secret_9876543210";
const URL = "https://hooks.example.com/webhooks/7a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const ORDER = {
  id: 820982911946154500,
  email: "jon@example.com",
  financial_status: "paid",
  total_price: "403.00",
};
const BODY = JSON.stringify(ORDER);

const endpoint = (secrets: string[] = [SECRET]): SourceEndpoint => ({ id: "ep", secrets, settings: {} });

/** Shopify's algorithm as documented: base64 HMAC-SHA256 of the raw body under the client secret. */
const sign = (secret: string, body: string | Buffer) =>
  createHmac("sha256", secret).update(body).digest("base64");

function delivery(
  opts: { body?: string | Buffer; secret?: string; headers?: Record<string, string | undefined> } = {},
) {
  const body = opts.body ?? BODY;
  return {
    method: "POST",
    url: URL,
    headers: {
      "content-type": "application/json",
      "x-shopify-hmac-sha256": sign(opts.secret ?? SECRET, body),
      "x-shopify-topic": "orders/paid",
      "x-shopify-shop-domain": "zixly-demo.myshopify.com",
      "x-shopify-api-version": "2025-07",
      "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
      "x-shopify-triggered-at": "2025-06-15T10:20:30.123456789Z",
      ...opts.headers,
    },
    rawBody: Buffer.from(body),
  } satisfies SourceRequest;
}

function eventsOf(result: SourceResult) {
  if (result.kind !== "events") throw new Error(`expected events, got ${result.kind}`);
  return result.events;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

function flipByte(buffer: Buffer, index: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe("shopifySource", () => {
  it("accepts a delivery signed as Shopify signs it and normalises it", () => {
    expect(eventsOf(shopifySource.verifyAndParse(delivery(), endpoint()))).toEqual([
      {
        source: "shopify",
        type: "orders.paid",
        id: "orders.paid:98880550-7158-44d4-b7cd-2c97c8a091b5",
        accountId: "zixly-demo.myshopify.com",
        occurredAt: "2025-06-15T10:20:30.123Z",
        data: ORDER,
      },
    ]);
  });

  it("agrees with @shopify/shopify-api's webhooks.validate", async () => {
    const shopify = shopifyApi({
      apiKey: "test-api-key",
      apiSecretKey: SECRET,
      hostName: "hooks.example.com",
      apiVersion: ApiVersion.July25,
      isEmbeddedApp: false,
      logger: { level: LogSeverity.Error, log: async () => {} },
    });
    const request = delivery();
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const valid = await shopify.webhooks.validate({
      rawBody: BODY,
      rawRequest: new Request(URL, { method: "POST", headers }),
    });
    expect(valid).toMatchObject({ valid: true, topic: "ORDERS_PAID", domain: "zixly-demo.myshopify.com" });
    expect(eventsOf(shopifySource.verifyAndParse(request, endpoint()))).toHaveLength(1);

    const tampered = await shopify.webhooks.validate({
      rawBody: `${BODY} `,
      rawRequest: new Request(URL, { method: "POST", headers }),
    });
    expect(tampered.valid).toBe(false);
    expect(() =>
      shopifySource.verifyAndParse({ ...request, rawBody: Buffer.from(`${BODY} `) }, endpoint()),
    ).toThrow(WebhookVerificationError);
  });

  it("rejects a one-byte change of the body, of the signature header, or of the secret", () => {
    const request = delivery();
    for (const index of [0, 20, request.rawBody.length - 1]) {
      expect(() =>
        shopifySource.verifyAndParse({ ...request, rawBody: flipByte(request.rawBody, index) }, endpoint()),
      ).toThrow(WebhookVerificationError);
    }
    const hmac = request.headers["x-shopify-hmac-sha256"];
    const changed = `${hmac[0] === "A" ? "B" : "A"}${hmac.slice(1)}`;
    expect(() =>
      shopifySource.verifyAndParse(delivery({ headers: { "x-shopify-hmac-sha256": changed } }), endpoint()),
    ).toThrow(WebhookVerificationError);
    expect(() => shopifySource.verifyAndParse(request, endpoint([`${SECRET}x`]))).toThrow(
      WebhookVerificationError,
    );
    expect(() => shopifySource.verifyAndParse(request, endpoint([]))).toThrow(WebhookVerificationError);
    expect(() =>
      shopifySource.verifyAndParse(delivery({ headers: { "x-shopify-hmac-sha256": undefined } }), endpoint()),
    ).toThrow(/X-Shopify-Hmac-Sha256/);
  });

  it("verifies under either secret during a rotation", () => {
    const both = endpoint([SECRET, PREVIOUS]);
    expect(eventsOf(shopifySource.verifyAndParse(delivery({ secret: SECRET }), both))).toHaveLength(1);
    expect(eventsOf(shopifySource.verifyAndParse(delivery({ secret: PREVIOUS }), both))).toHaveLength(1);
    expect(() => shopifySource.verifyAndParse(delivery({ secret: "shpss_someone_else" }), both)).toThrow(
      WebhookVerificationError,
    );
  });

  it("dedupes on the event id (per topic), falling back to the webhook id", () => {
    const retry = delivery({ headers: { "x-shopify-webhook-id": "another-delivery-id" } });
    const [first] = eventsOf(shopifySource.verifyAndParse(delivery(), endpoint()));
    const [again] = eventsOf(shopifySource.verifyAndParse(retry, endpoint()));
    expect(again?.id).toBe(first?.id);

    const otherTopic = delivery({ headers: { "x-shopify-topic": "orders/updated" } });
    expect(eventsOf(shopifySource.verifyAndParse(otherTopic, endpoint()))[0]?.id).toBe(
      "orders.updated:98880550-7158-44d4-b7cd-2c97c8a091b5",
    );

    const noEventId = delivery({ headers: { "x-shopify-event-id": undefined } });
    expect(eventsOf(shopifySource.verifyAndParse(noEventId, endpoint()))[0]?.id).toBe(
      "orders.paid:webhook:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    );
    const neither = delivery({ headers: { "x-shopify-event-id": undefined, "x-shopify-webhook-id": " " } });
    expect(() => shopifySource.verifyAndParse(neither, endpoint())).toThrow(WebhookPayloadError);
  });

  it("reads the Events delivery headers (Shopify-* without X-)", () => {
    const body = '{"id":1}';
    const request: SourceRequest = {
      method: "POST",
      url: URL,
      headers: {
        "shopify-hmac-sha256": sign(SECRET, body),
        "shopify-topic": "products/update",
        "shopify-shop-domain": "zixly-demo.myshopify.com",
        "shopify-event-id": "evt-1",
        "shopify-webhook-id": "wh-1",
        "shopify-triggered-at": "2025-06-15T10:20:30Z",
      },
      rawBody: Buffer.from(body),
    };
    expect(eventsOf(shopifySource.verifyAndParse(request, endpoint()))).toMatchObject([
      { type: "products.update", id: "products.update:evt-1", occurredAt: "2025-06-15T10:20:30.000Z" },
    ]);
  });

  it("normalises topics to lower-case dotted types", () => {
    expect(shopifyEventType("orders/paid")).toBe("orders.paid");
    expect(shopifyEventType("app/uninstalled")).toBe("app.uninstalled");
    expect(shopifyEventType("inventory_levels/update")).toBe("inventory_levels.update");
    expect(shopifyEventType("Customers/Data_Request")).toBe("customers.data_request");
  });

  it("leaves occurredAt out when X-Shopify-Triggered-At is missing or unreadable", () => {
    for (const value of [undefined, "yesterday"]) {
      const [event] = eventsOf(
        shopifySource.verifyAndParse(delivery({ headers: { "x-shopify-triggered-at": value } }), endpoint()),
      );
      expect(event?.occurredAt).toBeUndefined();
    }
  });

  it("checks the signature before the body and headers", () => {
    const request = delivery({ body: "{oops", headers: { "x-shopify-topic": undefined } });
    const badSignature = { ...request, headers: { ...request.headers, "x-shopify-hmac-sha256": "AAAA" } };
    expect(() => shopifySource.verifyAndParse(badSignature, endpoint())).toThrow(WebhookVerificationError);
  });

  it("answers malformed JSON with a valid signature as malformed_json, and a non-object as invalid_payload", () => {
    const malformed = catchError(() =>
      shopifySource.verifyAndParse(delivery({ body: "<order/>" }), endpoint()),
    );
    expect(malformed).toBeInstanceOf(WebhookPayloadError);
    expect((malformed as WebhookPayloadError).code).toBe("malformed_json");
    for (const body of ["[]", "null", '"order"', "42"]) {
      const error = catchError(() => shopifySource.verifyAndParse(delivery({ body }), endpoint()));
      expect(error).toBeInstanceOf(WebhookPayloadError);
      expect((error as WebhookPayloadError).code).toBe("invalid_payload");
      expect((error as Error).message).toMatch(/JSON object/);
    }
  });

  it("requires the topic and shop domain headers, naming them", () => {
    expect(() =>
      shopifySource.verifyAndParse(delivery({ headers: { "x-shopify-topic": undefined } }), endpoint()),
    ).toThrow(/X-Shopify-Topic/);
    expect(() =>
      shopifySource.verifyAndParse(delivery({ headers: { "x-shopify-shop-domain": "" } }), endpoint()),
    ).toThrow(/X-Shopify-Shop-Domain/);
  });

  it("never puts the secret or the expected signature in an error message", () => {
    const request = delivery();
    const tampered = { ...request, rawBody: flipByte(request.rawBody, 1) };
    const message = (catchError(() => shopifySource.verifyAndParse(tampered, endpoint())) as Error).message;
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(sign(SECRET, tampered.rawBody));
    expect(message).not.toContain(request.headers["x-shopify-hmac-sha256"]);
  });
});

function outcome(request: SourceRequest, ep: SourceEndpoint): SourceResult | Error {
  try {
    return shopifySource.verifyAndParse(request, ep);
  } catch (error) {
    if (error instanceof WebhookVerificationError || error instanceof WebhookPayloadError) return error;
    throw error;
  }
}

const arbBody = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.json().map((s) => Buffer.from(s)),
  fc.dictionary(fc.string(), fc.jsonValue()).map((o) => Buffer.from(JSON.stringify(o))),
);
const arbHeader = fc.option(fc.string(), { nil: undefined });

describe("shopifySource properties", () => {
  it("random deliveries only ever throw webhook errors, and yield events only when the HMAC verifies", () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        arbBody,
        fc.constantFrom("valid", "other-secret", "random", "missing"),
        arbHeader,
        arbHeader,
        arbHeader,
        arbHeader,
        arbHeader,
        (body, kind, random, topic, domain, eventId, webhookId) => {
          const hmac =
            kind === "valid"
              ? sign(SECRET, body)
              : kind === "other-secret"
                ? sign(PREVIOUS, body)
                : kind === "random"
                  ? random
                  : undefined;
          const request: SourceRequest = {
            method: "POST",
            url: URL,
            headers: {
              "x-shopify-hmac-sha256": hmac,
              "x-shopify-topic": topic ?? "orders/create",
              "x-shopify-shop-domain": domain ?? "a.myshopify.com",
              "x-shopify-event-id": eventId,
              "x-shopify-webhook-id": webhookId ?? "w",
            },
            rawBody: body,
          };
          const result = outcome(request, endpoint());
          if (!(result instanceof Error) && result.kind === "events") {
            expect(kind).toBe("valid");
            accepted++;
          }
        },
      ),
      // A fixed seed: the "reached accepted deliveries" checks below must not depend on luck.
      { numRuns: 500, seed: 20261122 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it("validly signed random bodies never fail verification", () => {
    fc.assert(
      fc.property(arbBody, (body) => {
        const result = outcome(delivery({ body }), endpoint());
        expect(result).not.toBeInstanceOf(WebhookVerificationError);
        if (!(result instanceof Error)) expect(eventsOf(result)[0]?.type).toBe("orders.paid");
      }),
      // A fixed seed: the "reached accepted deliveries" checks below must not depend on luck.
      { numRuns: 500, seed: 20261122 },
    );
  });
});
