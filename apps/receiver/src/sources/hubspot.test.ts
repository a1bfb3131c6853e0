import { createHash, createHmac } from "node:crypto";
import { Signature } from "@hubspot/api-client";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createHubspotSource,
  HUBSPOT_TIMESTAMP_TOLERANCE_MS,
  hubspotEventKey,
  hubspotSignedUris,
} from "./hubspot.js";
import {
  type SourceEndpoint,
  type SourceRequest,
  type SourceResult,
  WebhookPayloadError,
  WebhookVerificationError,
} from "./types.js";

const SECRET = "hubspot-client-secret-current";
const PREVIOUS = "hubspot-client-secret-previous";
const URL = "https://hooks.example.com/webhooks/3f0c6a52-8d5e-4c43-9b43-1e2f1c9a7b10";
const NOW = 1_750_000_000_000;
const source = createHubspotSource({ now: () => NOW });

const endpoint = (settings: Record<string, unknown> = {}, secrets: string[] = [SECRET]): SourceEndpoint => ({
  id: "ep",
  secrets,
  settings,
});

const events = [
  {
    eventId: 1001,
    subscriptionId: 2001,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1_749_999_990_000,
    subscriptionType: "deal.propertyChange",
    attemptNumber: 0,
    objectId: 123,
    propertyName: "dealstage",
    propertyValue: "closedwon",
    changeSource: "CRM",
  },
  {
    eventId: 1002,
    subscriptionId: 2002,
    portalId: 62515,
    appId: 54321,
    occurredAt: 1_749_999_991_000,
    subscriptionType: "contact.creation",
    attemptNumber: 0,
    objectId: 456,
    changeFlag: "NEW",
    changeSource: "CRM",
  },
];
const BODY = JSON.stringify(events);

/** HubSpot's v3 algorithm as documented: base64 HMAC-SHA256(secret, method + uri + body + timestamp). */
function signV3(
  secret: string,
  method: string,
  uri: string,
  body: string | Buffer,
  timestamp: string,
): string {
  return createHmac("sha256", secret)
    .update(Buffer.concat([Buffer.from(method + uri), Buffer.from(body), Buffer.from(timestamp)]))
    .digest("base64");
}
const sha256Hex = (s: string) => createHash("sha256").update(s).digest("hex");

function v3Request(
  opts: {
    body?: string | Buffer;
    ts?: number;
    secret?: string;
    url?: string;
    signedUrl?: string;
    method?: string;
  } = {},
): SourceRequest {
  const body = opts.body ?? BODY;
  const ts = String(opts.ts ?? NOW - 1_000);
  const method = opts.method ?? "POST";
  const url = opts.url ?? URL;
  return {
    method,
    url,
    headers: {
      "content-type": "application/json",
      "x-hubspot-signature-v3": signV3(opts.secret ?? SECRET, method, opts.signedUrl ?? url, body, ts),
      "x-hubspot-request-timestamp": ts,
    },
    rawBody: Buffer.from(body),
  };
}

function legacyRequest(version: "v1" | "v2", opts: { body?: string; secret?: string } = {}): SourceRequest {
  const body = opts.body ?? BODY;
  const secret = opts.secret ?? SECRET;
  const signature = version === "v1" ? sha256Hex(secret + body) : sha256Hex(`${secret}POST${URL}${body}`);
  return {
    method: "POST",
    url: URL,
    headers: { "x-hubspot-signature": signature, "x-hubspot-signature-version": version },
    rawBody: Buffer.from(body),
  };
}

function eventsOf(result: SourceResult) {
  if (result.kind !== "events") throw new Error(`expected events, got ${result.kind}`);
  return result.events;
}

function withHeader(request: SourceRequest, name: string, value: string | undefined): SourceRequest {
  return { ...request, headers: { ...request.headers, [name]: value } };
}

function flipByte(buffer: Buffer, index: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe("hubspotSource v3", () => {
  it("accepts a delivery signed as HubSpot signs it and normalises every event", () => {
    const result = eventsOf(source.verifyAndParse(v3Request(), endpoint()));
    expect(result).toHaveLength(2);
    expect(result[0]).toEqual({
      source: "hubspot",
      type: "deal.propertychange",
      id: hubspotEventKey(events[0] as never),
      accountId: "62515",
      occurredAt: new Date(1_749_999_990_000).toISOString(),
      data: events[0],
    });
    expect(result[1]?.type).toBe("contact.creation");
    expect(result[1]?.id).not.toBe(result[0]?.id);
    expect(result[0]?.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("agrees with @hubspot/api-client's Signature.isValid (v3)", () => {
    const now = Date.now();
    const request = v3Request({ ts: now });
    const signature = request.headers["x-hubspot-signature-v3"] as string;
    expect(
      Signature.isValid({
        signatureVersion: "v3",
        clientSecret: SECRET,
        requestBody: BODY,
        url: URL,
        method: "POST",
        signature,
        timestamp: now,
      }),
    ).toBe(true);
    // The SDK's signature (not ours) is accepted by the source.
    const sdkSignature = Signature.getSignature("POST", "v3", {
      clientSecret: SECRET,
      requestBody: BODY,
      url: URL,
      timestamp: now,
      signature: "",
    });
    expect(sdkSignature).toBe(signature);
    expect(eventsOf(createHubspotSource().verifyAndParse(request, endpoint()))).toHaveLength(2);
  });

  it("rejects a one-byte change of the body", () => {
    const request = v3Request();
    for (const index of [0, 10, request.rawBody.length - 1]) {
      expect(() =>
        source.verifyAndParse({ ...request, rawBody: flipByte(request.rawBody, index) }, endpoint()),
      ).toThrow(WebhookVerificationError);
    }
  });

  it("rejects a change of a signed part: timestamp, URL, method", () => {
    const request = v3Request();
    const ts = request.headers["x-hubspot-request-timestamp"] as string;
    const shifted = withHeader(request, "x-hubspot-request-timestamp", String(Number(ts) + 1));
    expect(() => source.verifyAndParse(shifted, endpoint())).toThrow(WebhookVerificationError);
    expect(() => source.verifyAndParse({ ...request, url: `${URL}x` }, endpoint())).toThrow(
      WebhookVerificationError,
    );
    expect(() =>
      source.verifyAndParse({ ...request, url: URL.replace("https:", "http:") }, endpoint()),
    ).toThrow(WebhookVerificationError);
    expect(() => source.verifyAndParse({ ...request, method: "PUT" }, endpoint())).toThrow(
      WebhookVerificationError,
    );
  });

  it("rejects a one-character change of the signature and a different secret", () => {
    const request = v3Request();
    const sig = request.headers["x-hubspot-signature-v3"] as string;
    const changed = `${sig[0] === "A" ? "B" : "A"}${sig.slice(1)}`;
    expect(() =>
      source.verifyAndParse(withHeader(request, "x-hubspot-signature-v3", changed), endpoint()),
    ).toThrow(WebhookVerificationError);
    expect(() => source.verifyAndParse(request, endpoint({}, [`${SECRET}x`]))).toThrow(
      WebhookVerificationError,
    );
    expect(() => source.verifyAndParse(request, endpoint({}, []))).toThrow(WebhookVerificationError);
  });

  it("rejects stale and future timestamps, saying so; accepts the 5-minute boundary", () => {
    const stale = v3Request({ ts: NOW - HUBSPOT_TIMESTAMP_TOLERANCE_MS - 1 });
    expect(() => source.verifyAndParse(stale, endpoint())).toThrow(/more than 5 minutes old/);
    expect(() => source.verifyAndParse(stale, endpoint())).toThrow(WebhookVerificationError);
    const future = v3Request({ ts: NOW + HUBSPOT_TIMESTAMP_TOLERANCE_MS + 1 });
    expect(() => source.verifyAndParse(future, endpoint())).toThrow(/in the future/);
    for (const ts of [NOW - HUBSPOT_TIMESTAMP_TOLERANCE_MS, NOW + HUBSPOT_TIMESTAMP_TOLERANCE_MS]) {
      expect(eventsOf(source.verifyAndParse(v3Request({ ts }), endpoint()))).toHaveLength(2);
    }
  });

  it("rejects a missing or non-numeric timestamp and a missing signature", () => {
    const request = v3Request();
    expect(() =>
      source.verifyAndParse(withHeader(request, "x-hubspot-request-timestamp", undefined), endpoint()),
    ).toThrow(/X-HubSpot-Request-Timestamp/);
    expect(() =>
      source.verifyAndParse(withHeader(request, "x-hubspot-request-timestamp", "12e3"), endpoint()),
    ).toThrow(WebhookVerificationError);
    expect(() =>
      source.verifyAndParse(withHeader(request, "x-hubspot-signature-v3", undefined), endpoint()),
    ).toThrow(/X-HubSpot-Signature-v3 header is missing/);
  });

  it("verifies under either secret during a rotation", () => {
    const both = endpoint({}, [SECRET, PREVIOUS]);
    expect(eventsOf(source.verifyAndParse(v3Request({ secret: SECRET }), both))).toHaveLength(2);
    expect(eventsOf(source.verifyAndParse(v3Request({ secret: PREVIOUS }), both))).toHaveLength(2);
    expect(() => source.verifyAndParse(v3Request({ secret: "another-app-secret" }), both)).toThrow(
      WebhookVerificationError,
    );
  });

  it("signs the URI with HubSpot's listed %-encodings decoded, and also accepts the URI as received", () => {
    const url = `${URL}?next=https%3A%2F%2Fapp.example.com%2Fa%3Fb&who=me%40example.com&keep=%20%2B`;
    const decoded = `${URL}?next=https://app.example.com/a?b&who=me@example.com&keep=%20%2B`;
    expect(hubspotSignedUris(url)).toEqual([decoded, url]);
    expect(hubspotSignedUris(URL)).toEqual([URL]);
    expect(hubspotSignedUris("https://h/x?a=%3a%2f")).toEqual(["https://h/x?a=:/", "https://h/x?a=%3a%2f"]);
    expect(eventsOf(source.verifyAndParse(v3Request({ url, signedUrl: decoded }), endpoint()))).toHaveLength(
      2,
    );
    expect(eventsOf(source.verifyAndParse(v3Request({ url, signedUrl: url }), endpoint()))).toHaveLength(2);
    expect(() => source.verifyAndParse(v3Request({ url, signedUrl: `${decoded}&x=1` }), endpoint())).toThrow(
      WebhookVerificationError,
    );
  });

  it("checks the signature before the body: a bad signature on a malformed body is a verification error", () => {
    const request = v3Request({ body: "{not json" });
    expect(() =>
      source.verifyAndParse(withHeader(request, "x-hubspot-signature-v3", "bad"), endpoint()),
    ).toThrow(WebhookVerificationError);
  });

  it("answers malformed JSON with a valid signature as malformed_json", () => {
    const error = catchError(() => source.verifyAndParse(v3Request({ body: "[{" }), endpoint()));
    expect(error).toBeInstanceOf(WebhookPayloadError);
    expect((error as WebhookPayloadError).code).toBe("malformed_json");
  });

  it("names the wrong field of an invalid payload", () => {
    const notArray = catchError(() =>
      source.verifyAndParse(v3Request({ body: '{"eventId":1}' }), endpoint()),
    );
    expect(notArray).toBeInstanceOf(WebhookPayloadError);
    expect((notArray as WebhookPayloadError).code).toBe("invalid_payload");
    expect((notArray as Error).message).toMatch(/\(body\)/);
    const noPortal = JSON.stringify([{ ...events[0], portalId: undefined }]);
    expect(() => source.verifyAndParse(v3Request({ body: noPortal }), endpoint())).toThrow(/\[0\]\.portalId/);
    const badType = JSON.stringify([events[0], { ...events[1], subscriptionType: 7 }]);
    expect(() => source.verifyAndParse(v3Request({ body: badType }), endpoint())).toThrow(
      /\[1\]\.subscriptionType/,
    );
  });

  it("accepts an empty batch as no events", () => {
    expect(source.verifyAndParse(v3Request({ body: "[]" }), endpoint())).toEqual({
      kind: "events",
      events: [],
    });
  });

  it("keys a retry like the original and tells apart events sharing an eventId", () => {
    const [first] = events;
    const retry = { ...first, attemptNumber: 3 };
    const otherSubscription = { ...first, subscriptionId: 9999 };
    const otherObject = { ...first, objectId: 124 };
    const body = JSON.stringify([first, retry, otherSubscription, otherObject]);
    const ids = eventsOf(source.verifyAndParse(v3Request({ body }), endpoint())).map((e) => e.id);
    expect(ids[1]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(3);
  });

  it("never puts the secret or the expected signature in an error message", () => {
    const request = v3Request();
    const expected = request.headers["x-hubspot-signature-v3"] as string;
    const tampered = { ...request, rawBody: flipByte(request.rawBody, 3) };
    const messages = [
      catchError(() => source.verifyAndParse(tampered, endpoint())),
      catchError(() => source.verifyAndParse(withHeader(request, "x-hubspot-signature-v3", "x"), endpoint())),
      catchError(() => source.verifyAndParse(legacyRequest("v1"), endpoint())),
    ].map((e) => (e as Error).message);
    for (const message of messages) {
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(expected);
      expect(message).not.toContain(signV3(SECRET, "POST", URL, tampered.rawBody, String(NOW - 1_000)));
    }
  });
});

describe("hubspotSource v1/v2", () => {
  // HubSpot's documented examples (developers.hubspot.com, v1 and v2 request validation).
  const DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
  const DOC_BODY =
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';

  it("verifies HubSpot's documented v1 example when v1 is enabled (cross-checked with the SDK)", () => {
    const signature = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
    expect(
      Signature.isValid({
        signatureVersion: "v1",
        clientSecret: DOC_SECRET,
        requestBody: DOC_BODY,
        signature,
      }),
    ).toBe(true);
    const request: SourceRequest = {
      method: "POST",
      url: URL,
      headers: { "x-hubspot-signature": signature, "x-hubspot-signature-version": "v1" },
      rawBody: Buffer.from(DOC_BODY),
    };
    const result = eventsOf(
      source.verifyAndParse(request, endpoint({ hubspotSignatureVersions: ["v1"] }, [DOC_SECRET])),
    );
    expect(result).toMatchObject([{ type: "contact.creation", accountId: "62515" }]);
    expect(() => source.verifyAndParse(request, endpoint({}, [DOC_SECRET]))).toThrow(
      /v1 signatures are not accepted/,
    );
  });

  it("verifies HubSpot's documented v2 example when v2 is enabled", () => {
    // GET https://www.example.com/webhook_uri with no body: the signature verifies, then the empty body is refused.
    const request: SourceRequest = {
      method: "GET",
      url: "https://www.example.com/webhook_uri",
      headers: {
        "x-hubspot-signature": "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
        "x-hubspot-signature-version": "v2",
      },
      rawBody: Buffer.alloc(0),
    };
    const enabled = endpoint({ hubspotSignatureVersions: ["v2"] }, [DOC_SECRET]);
    const error = catchError(() => source.verifyAndParse(request, enabled));
    expect(error).toBeInstanceOf(WebhookPayloadError);
    expect(() =>
      source.verifyAndParse(request, endpoint({ hubspotSignatureVersions: ["v1"] }, [DOC_SECRET])),
    ).toThrow(/v2 signatures are not accepted/);
  });

  it("refuses v1 and v2 by default and accepts each only when listed", () => {
    for (const version of ["v1", "v2"] as const) {
      expect(() => source.verifyAndParse(legacyRequest(version), endpoint())).toThrow(
        WebhookVerificationError,
      );
      expect(() =>
        source.verifyAndParse(legacyRequest(version), endpoint({ hubspotSignatureVersions: "v1,v2" })),
      ).toThrow(WebhookVerificationError);
      expect(
        eventsOf(
          source.verifyAndParse(legacyRequest(version), endpoint({ hubspotSignatureVersions: [version] })),
        ),
      ).toHaveLength(2);
    }
    expect(() =>
      source.verifyAndParse(legacyRequest("v1"), endpoint({ hubspotSignatureVersions: ["v2"] })),
    ).toThrow(WebhookVerificationError);
  });

  it("rejects a tampered v1/v2 delivery, and rotates secrets", () => {
    const enabled = endpoint({ hubspotSignatureVersions: ["v1", "v2"] }, [SECRET, PREVIOUS]);
    for (const version of ["v1", "v2"] as const) {
      const request = legacyRequest(version);
      expect(() =>
        source.verifyAndParse({ ...request, rawBody: flipByte(request.rawBody, 5) }, enabled),
      ).toThrow(WebhookVerificationError);
      expect(
        eventsOf(source.verifyAndParse(legacyRequest(version, { secret: PREVIOUS }), enabled)),
      ).toHaveLength(2);
      expect(() => source.verifyAndParse(legacyRequest(version, { secret: "nope-nope" }), enabled)).toThrow(
        WebhookVerificationError,
      );
    }
    const v2 = legacyRequest("v2");
    expect(() => source.verifyAndParse({ ...v2, url: `${URL}/other` }, enabled)).toThrow(
      WebhookVerificationError,
    );
  });

  it("uses v3 when present, even if legacy versions are enabled", () => {
    const request = {
      ...legacyRequest("v1"),
      headers: { ...legacyRequest("v1").headers, "x-hubspot-signature-v3": "bad" },
    };
    expect(() =>
      source.verifyAndParse(
        { ...request, headers: { ...request.headers, "x-hubspot-request-timestamp": String(NOW) } },
        endpoint({ hubspotSignatureVersions: ["v1"] }),
      ),
    ).toThrow(/X-HubSpot-Signature-v3 does not match/);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}

/** Calls the source; webhook errors are outcomes, anything else fails the property. */
function outcome(
  request: SourceRequest,
  ep: SourceEndpoint,
): SourceResult | WebhookVerificationError | WebhookPayloadError {
  try {
    return source.verifyAndParse(request, ep);
  } catch (error) {
    if (error instanceof WebhookVerificationError || error instanceof WebhookPayloadError) return error;
    throw error;
  }
}

const arbEventLike = fc.record(
  {
    eventId: fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
    subscriptionId: fc.oneof(fc.integer(), fc.string()),
    portalId: fc.oneof(fc.integer(), fc.string(), fc.boolean()),
    occurredAt: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(1e300)),
    subscriptionType: fc.oneof(
      fc.constantFrom("contact.creation", "deal.propertyChange"),
      fc.string(),
      fc.integer(),
    ),
    objectId: fc.oneof(fc.integer(), fc.string()),
    propertyName: fc.oneof(fc.string(), fc.integer()),
  },
  { requiredKeys: [] },
);
const arbBody = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.json().map((s) => Buffer.from(s)),
  fc.array(arbEventLike, { maxLength: 4 }).map((a) => Buffer.from(JSON.stringify(a))),
);
const arbTimestamp = fc.oneof(
  fc
    .integer({ min: NOW - 2 * HUBSPOT_TIMESTAMP_TOLERANCE_MS, max: NOW + 2 * HUBSPOT_TIMESTAMP_TOLERANCE_MS })
    .map(String),
  fc.string(),
);

describe("hubspotSource properties", () => {
  it("random deliveries only ever throw webhook errors, and yield events only when v3 verifies", () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        arbBody,
        arbTimestamp,
        fc.constantFrom("valid", "random", "missing", "other-secret"),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.constantFrom("v1", "v2", "v3", "x"), { nil: undefined }),
        (body, ts, signatureKind, legacySignature, legacyVersion) => {
          const signature =
            signatureKind === "valid"
              ? signV3(SECRET, "POST", URL, body, ts)
              : signatureKind === "other-secret"
                ? signV3(PREVIOUS, "POST", URL, body, ts)
                : signatureKind === "random"
                  ? (legacySignature ?? "")
                  : undefined;
          const request: SourceRequest = {
            method: "POST",
            url: URL,
            headers: {
              "x-hubspot-signature-v3": signature,
              "x-hubspot-request-timestamp": ts,
              "x-hubspot-signature": legacySignature,
              "x-hubspot-signature-version": legacyVersion,
            },
            rawBody: body,
          };
          const result = outcome(request, endpoint());
          if (!(result instanceof Error) && result.kind === "events") {
            const fresh = /^\d+$/.test(ts) && Math.abs(NOW - Number(ts)) <= HUBSPOT_TIMESTAMP_TOLERANCE_MS;
            expect(signatureKind === "valid" && fresh).toBe(true);
            accepted++;
          }
        },
      ),
      // A fixed seed: the "reached accepted deliveries" checks below must not depend on luck.
      { numRuns: 500, seed: 20261122 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it("validly signed random bodies never fail verification: events or a payload error", () => {
    let withEvents = 0;
    fc.assert(
      fc.property(arbBody, (body) => {
        const result = outcome(v3Request({ body }), endpoint());
        expect(result).not.toBeInstanceOf(WebhookVerificationError);
        if (!(result instanceof Error)) {
          for (const event of eventsOf(result)) {
            expect(event.type).toBe(event.type.toLowerCase());
            expect(event.id).toMatch(/^[0-9a-f]{64}$/);
            withEvents++;
          }
        }
      }),
      // A fixed seed: the "reached accepted deliveries" checks below must not depend on luck.
      { numRuns: 500, seed: 20261122 },
    );
    expect(withEvents).toBeGreaterThan(0);
  });
});
