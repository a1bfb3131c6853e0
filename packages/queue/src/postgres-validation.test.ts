import { describe, expect, it } from "vitest";
import { assertPostgresMessages, assertPostgresText } from "./postgres-validation.js";

describe("assertPostgresMessages", () => {
  it("accepts what jsonb and text store unchanged", () => {
    expect(() =>
      assertPostgresMessages([
        { id: "plain", body: { a: 1, b: [true, null, "x"] } },
        { id: "emoji-😀", body: { k: "😀", clé: "ünïcødé" } },
        // A backslash followed by the letters u0000 is just text.
        { id: "escaped", body: "back\\u0000slash" },
        { id: "double", body: "\\\\u0000" },
        { id: "no-body", body: undefined },
      ]),
    ).not.toThrow();
  });

  it("rejects a NUL character anywhere in the body, keys included", () => {
    expect(() =>
      assertPostgresMessages([
        { id: "ok", body: 1 },
        { id: "nul", body: "a\u0000b" },
      ]),
    ).toThrow(/message 1 \("nul"\) body/);
    expect(() => assertPostgresMessages([{ id: "key", body: { "k\u0000": 1 } }])).toThrow(TypeError);
    expect(() => assertPostgresMessages([{ id: "deep", body: [{ x: ["\\", "\u0000"] }] }])).toThrow(
      TypeError,
    );
  });

  it("rejects unpaired surrogates in the body", () => {
    expect(() => assertPostgresMessages([{ id: "high", body: "x\ud800y" }])).toThrow(/unpaired surrogate/);
    expect(() => assertPostgresMessages([{ id: "low", body: "\udc00" }])).toThrow(TypeError);
  });

  it("rejects ids PostgreSQL would not store unchanged", () => {
    expect(() => assertPostgresMessages([{ id: "a\u0000b", body: 1 }])).toThrow(/id/);
    expect(() => assertPostgresMessages([{ id: "lone-\ud83d", body: 1 }])).toThrow(/id/);
    expect(() => assertPostgresText("fine-😀", "queue")).not.toThrow();
  });
});
