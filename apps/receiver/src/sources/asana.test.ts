import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AsanaSourceResult, asanaEventKey, asanaEventType, asanaSource } from "./asana.js";
import {
  type SourceEndpoint,
  type SourceRequest,
  WebhookPayloadError,
  WebhookVerificationError,
} from "./types.js";

const SECRET = "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81";
const PREVIOUS = "0c5d4a9e1f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5";
const URL = "https://hooks.example.com/webhooks/0d9b7f4e-3c2a-4b1d-9e8f-7a6b5c4d3e2f";

const endpoint = (secrets: string[] = [SECRET]): SourceEndpoint => ({ id: "ep", secrets, settings: {} });

const TASK_CHANGED = {
  user: { gid: "1111", resource_type: "user" },
  created_at: "2025-06-15T10:20:30.123Z",
  action: "changed",
  resource: { gid: "2222", resource_type: "task", resource_subtype: "default_task" },
  parent: null,
  change: { field: "assignee", action: "changed", new_value: { gid: "3333", resource_type: "user" } },
};
const TASK_ADDED = {
  user: { gid: "1111", resource_type: "user" },
  created_at: "2025-06-15T10:20:31.000Z",
  action: "added",
  resource: { gid: "2223", resource_type: "task", resource_subtype: "milestone" },
  parent: { gid: "4444", resource_type: "project" },
};
const BODY = JSON.stringify({ events: [TASK_CHANGED, TASK_ADDED] });

/** Asana's algorithm as documented: hex HMAC-SHA256 of the raw body under the handshake secret. */
const sign = (secret: string, body: string | Buffer) =>
  createHmac("sha256", secret).update(body).digest("hex");

function delivery(
  opts: { body?: string | Buffer; secret?: string; signature?: string | undefined } = {},
): SourceRequest {
  const body = opts.body ?? BODY;
  return {
    method: "POST",
    url: URL,
    headers: {
      "content-type": "application/json",
      "x-hook-signature": "signature" in opts ? opts.signature : sign(opts.secret ?? SECRET, body),
    },
    rawBody: Buffer.from(body),
  };
}

function handshakeRequest(secret: string): SourceRequest {
  return { method: "POST", url: URL, headers: { "x-hook-secret": secret }, rawBody: Buffer.alloc(0) };
}

function eventsOf(result: AsanaSourceResult) {
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

describe("asanaSource handshake", () => {
  it("answers the first handshake with 200 echoing X-Hook-Secret, and hands the secret to the receiver", () => {
    expect(asanaSource.verifyAndParse(handshakeRequest(SECRET), endpoint([]))).toEqual({
      kind: "reply",
      status: 200,
      headers: { "X-Hook-Secret": SECRET },
      body: "",
      outcome: "handshake",
      learnedSecret: SECRET,
    });
  });

  it("answers a repeated handshake with the stored secret again, learning nothing", () => {
    for (const secrets of [[SECRET], [PREVIOUS, SECRET]]) {
      const reply = asanaSource.verifyAndParse(handshakeRequest(SECRET), endpoint(secrets));
      expect(reply).toEqual({
        kind: "reply",
        status: 200,
        headers: { "X-Hook-Secret": SECRET },
        body: "",
        outcome: "handshake",
      });
    }
  });

  it("refuses a handshake with another secret once the endpoint has one", () => {
    const error = catchError(() =>
      asanaSource.verifyAndParse(handshakeRequest(PREVIOUS), endpoint([SECRET])),
    );
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect((error as Error).message).toMatch(/already has a secret/);
    expect((error as Error).message).not.toContain(SECRET);
    expect((error as Error).message).not.toContain(PREVIOUS);
  });

  it("refuses an empty or unusable X-Hook-Secret", () => {
    for (const bad of ["", "short", "has space in it", "x".repeat(1025), "tab\there-and-more"]) {
      expect(() => asanaSource.verifyAndParse(handshakeRequest(bad), endpoint([]))).toThrow(
        WebhookPayloadError,
      );
    }
  });

  it("refuses deliveries before the handshake", () => {
    expect(() => asanaSource.verifyAndParse(delivery(), endpoint([]))).toThrow(/handshake must come first/);
  });
});

describe("asanaSource deliveries", () => {
  it("accepts a delivery signed as Asana signs it and normalises every event", () => {
    const events = eventsOf(asanaSource.verifyAndParse(delivery(), endpoint()));
    expect(events).toEqual([
      {
        source: "asana",
        type: "task.changed",
        id: asanaEventKey(TASK_CHANGED),
        accountId: undefined,
        occurredAt: "2025-06-15T10:20:30.123Z",
        data: TASK_CHANGED,
      },
      {
        source: "asana",
        type: "task.added",
        id: asanaEventKey(TASK_ADDED),
        accountId: undefined,
        occurredAt: "2025-06-15T10:20:31.000Z",
        data: TASK_ADDED,
      },
    ]);
    expect(events[0]?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(events[0]?.id).not.toBe(events[1]?.id);
  });

  it("answers a signed empty batch as a heartbeat, storing nothing", () => {
    const heartbeat = '{"events":[]}';
    expect(asanaSource.verifyAndParse(delivery({ body: heartbeat }), endpoint())).toEqual({
      kind: "reply",
      status: 200,
      body: "",
      outcome: "heartbeat",
    });
    expect(() =>
      asanaSource.verifyAndParse(delivery({ body: heartbeat, secret: PREVIOUS }), endpoint()),
    ).toThrow(WebhookVerificationError);
  });

  it("rejects a one-byte change of the body, of X-Hook-Signature, or of the secret", () => {
    const request = delivery();
    for (const index of [0, 30, request.rawBody.length - 1]) {
      expect(() =>
        asanaSource.verifyAndParse({ ...request, rawBody: flipByte(request.rawBody, index) }, endpoint()),
      ).toThrow(WebhookVerificationError);
    }
    const signature = request.headers["x-hook-signature"] as string;
    const changed = `${signature[0] === "a" ? "b" : "a"}${signature.slice(1)}`;
    expect(() => asanaSource.verifyAndParse(delivery({ signature: changed }), endpoint())).toThrow(
      WebhookVerificationError,
    );
    expect(() => asanaSource.verifyAndParse(delivery({ signature: undefined }), endpoint())).toThrow(
      /X-Hook-Signature/,
    );
    expect(() => asanaSource.verifyAndParse(request, endpoint([`${SECRET}0`]))).toThrow(
      WebhookVerificationError,
    );
  });

  it("accepts an upper-case hex signature", () => {
    const signature = sign(SECRET, BODY).toUpperCase();
    expect(eventsOf(asanaSource.verifyAndParse(delivery({ signature }), endpoint()))).toHaveLength(2);
  });

  it("verifies under either secret during a rotation", () => {
    const both = endpoint([SECRET, PREVIOUS]);
    expect(eventsOf(asanaSource.verifyAndParse(delivery({ secret: SECRET }), both))).toHaveLength(2);
    expect(eventsOf(asanaSource.verifyAndParse(delivery({ secret: PREVIOUS }), both))).toHaveLength(2);
    expect(() => asanaSource.verifyAndParse(delivery({ secret: "f".repeat(64) }), both)).toThrow(
      WebhookVerificationError,
    );
  });

  it("checks the signature before the body", () => {
    expect(() =>
      asanaSource.verifyAndParse(delivery({ body: "{oops", signature: "00" }), endpoint()),
    ).toThrow(WebhookVerificationError);
  });

  it("answers malformed JSON with a valid signature as malformed_json", () => {
    const error = catchError(() => asanaSource.verifyAndParse(delivery({ body: '{"events":[' }), endpoint()));
    expect(error).toBeInstanceOf(WebhookPayloadError);
    expect((error as WebhookPayloadError).code).toBe("malformed_json");
  });

  it("names the wrong field of an invalid payload", () => {
    expect(() => asanaSource.verifyAndParse(delivery({ body: "[]" }), endpoint())).toThrow(
      /\(body\): .*expected object/,
    );
    expect(() => asanaSource.verifyAndParse(delivery({ body: "{}" }), endpoint())).toThrow(/: events: /);
    const noGid = JSON.stringify({
      events: [TASK_ADDED, { ...TASK_CHANGED, resource: { resource_type: "task" } }],
    });
    const error = catchError(() => asanaSource.verifyAndParse(delivery({ body: noGid }), endpoint()));
    expect(error).toBeInstanceOf(WebhookPayloadError);
    expect((error as WebhookPayloadError).code).toBe("invalid_payload");
    expect((error as Error).message).toMatch(/events\[1\]\.resource\.gid/);
  });

  it("accepts system events (user null) and leaves an unreadable created_at out of occurredAt", () => {
    const system = { ...TASK_ADDED, user: null, created_at: "not a date" };
    const [event] = eventsOf(
      asanaSource.verifyAndParse(delivery({ body: JSON.stringify({ events: [system] }) }), endpoint()),
    );
    expect(event).toMatchObject({ type: "task.added", occurredAt: undefined, data: system });
  });

  it("keys an event independently of key order, and tells apart changes made in the same instant", () => {
    const reordered = JSON.parse(
      '{"change":{"new_value":{"resource_type":"user","gid":"3333"},"action":"changed","field":"assignee"},"parent":null,"resource":{"resource_subtype":"default_task","resource_type":"task","gid":"2222"},"action":"changed","created_at":"2025-06-15T10:20:30.123Z","user":{"resource_type":"user","gid":"1111"}}',
    );
    expect(asanaEventKey(reordered)).toBe(asanaEventKey(TASK_CHANGED));
    const tagA = {
      ...TASK_CHANGED,
      change: { field: "tags", action: "added", added_value: { gid: "1", resource_type: "tag" } },
    };
    const tagB = {
      ...TASK_CHANGED,
      change: { field: "tags", action: "added", added_value: { gid: "2", resource_type: "tag" } },
    };
    expect(asanaEventKey(tagA)).not.toBe(asanaEventKey(tagB));
    expect(asanaEventKey({ ...TASK_ADDED, parent: { gid: "5555", resource_type: "project" } })).not.toBe(
      asanaEventKey(TASK_ADDED),
    );
  });

  it("names types resource_type.action, leaving the subtype in data", () => {
    expect(asanaEventType(TASK_ADDED)).toBe("task.added");
    expect(
      asanaEventType({ ...TASK_ADDED, action: "removed", resource: { gid: "9", resource_type: "story" } }),
    ).toBe("story.removed");
  });

  it("never puts the secret or the expected signature in an error message", () => {
    const request = delivery();
    const tampered = { ...request, rawBody: flipByte(request.rawBody, 2) };
    const message = (catchError(() => asanaSource.verifyAndParse(tampered, endpoint())) as Error).message;
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(sign(SECRET, tampered.rawBody));
  });
});

function outcome(request: SourceRequest, ep: SourceEndpoint): AsanaSourceResult | Error {
  try {
    return asanaSource.verifyAndParse(request, ep);
  } catch (error) {
    if (error instanceof WebhookVerificationError || error instanceof WebhookPayloadError) return error;
    throw error;
  }
}

const arbCompact = fc.record(
  {
    gid: fc.oneof(fc.string(), fc.integer()),
    resource_type: fc.oneof(fc.constantFrom("task", "story"), fc.string()),
  },
  { requiredKeys: [] },
);
const arbEventLike = fc.record(
  {
    user: fc.oneof(arbCompact, fc.constant(null)),
    created_at: fc.oneof(
      fc.string(),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    ),
    action: fc.oneof(fc.constantFrom("changed", "added"), fc.string()),
    resource: arbCompact,
    parent: fc.oneof(arbCompact, fc.constant(null)),
    change: fc.oneof(
      fc.record({ field: fc.string(), action: fc.string(), new_value: fc.jsonValue() }),
      fc.jsonValue(),
    ),
  },
  { requiredKeys: [] },
);
const arbGid = fc.stringMatching(/^[0-9]{1,16}$/);
const arbValidEvent = fc.record({
  user: fc.oneof(fc.record({ gid: arbGid, resource_type: fc.constant("user") }), fc.constant(null)),
  created_at: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  action: fc.constantFrom("changed", "added", "removed", "deleted", "undeleted"),
  resource: fc.record({ gid: arbGid, resource_type: fc.constantFrom("task", "story", "project") }),
  parent: fc.oneof(fc.record({ gid: arbGid, resource_type: fc.constant("project") }), fc.constant(null)),
});
const arbBody = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.json().map((s) => Buffer.from(s)),
  fc.array(arbEventLike, { maxLength: 4 }).map((events) => Buffer.from(JSON.stringify({ events }))),
  fc.array(arbValidEvent, { maxLength: 4 }).map((events) => Buffer.from(JSON.stringify({ events }))),
);

describe("asanaSource properties", () => {
  it("random deliveries only ever throw webhook errors, and yield events only when the signature verifies", () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        arbBody,
        fc.constantFrom("valid", "other-secret", "random", "missing"),
        fc.option(fc.string(), { nil: undefined }),
        fc.option(fc.string(), { nil: undefined }),
        fc.boolean(),
        (body, kind, random, hookSecret, hasSecret) => {
          const signature =
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
            headers: { "x-hook-signature": signature, "x-hook-secret": hookSecret },
            rawBody: body,
          };
          const result = outcome(request, endpoint(hasSecret ? [SECRET] : []));
          if (!(result instanceof Error) && result.kind === "events") {
            expect(kind === "valid" && hasSecret && hookSecret === undefined).toBe(true);
            accepted++;
          }
          if (!(result instanceof Error) && result.kind === "reply" && result.learnedSecret !== undefined) {
            expect(hasSecret).toBe(false);
            expect(result.learnedSecret).toBe(hookSecret);
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
        if (!(result instanceof Error) && result.kind === "events") {
          for (const event of result.events) expect(event.type).toMatch(/\./);
        }
      }),
      // A fixed seed: the "reached accepted deliveries" checks below must not depend on luck.
      { numRuns: 500, seed: 20261122 },
    );
  });
});
