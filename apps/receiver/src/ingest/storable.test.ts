import { describe, expect, it } from "vitest";
import { storableDate, unstorableReason } from "./storable.js";

describe("storable JSON", () => {
  it("accepts ordinary payloads, unicode included", () => {
    expect(unstorableReason({ a: [1, "x", { b: "émoji 🎉" }], c: null })).toBeUndefined();
  });

  it("names what Postgres would refuse", () => {
    expect(unstorableReason({ a: "x\u0000y" })).toMatch(/\$\.a: contains a NUL/);
    expect(unstorableReason({ "k\u0000": 1 })).toMatch(/key contains a NUL/);
    expect(unstorableReason({ a: "\ud800" })).toMatch(/unpaired UTF-16 surrogate/);
    expect(unstorableReason(JSON.parse('{"__proto__": null}'))).toMatch(/__proto__/);
  });

  it("rejects deep nesting without overflowing the stack", () => {
    const deep = JSON.parse(`${"[".repeat(10_000)}${"]".repeat(10_000)}`);
    expect(unstorableReason(deep)).toMatch(/nested deeper than 64/);
  });

  it("keeps only dates Postgres can store", () => {
    expect(storableDate("2026-11-21T09:00:00Z")?.toISOString()).toBe("2026-11-21T09:00:00.000Z");
    expect(storableDate(new Date(-8.64e15).toISOString())).toBeNull();
    expect(storableDate(undefined)).toBeNull();
  });
});
