import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, parseEncryptionKeys, safeEqual } from "./crypto.js";

const keyB64 = () => randomBytes(32).toString("base64");

describe("secret box", () => {
  it("round-trips and hides the plaintext", () => {
    const box = createSecretBox(parseEncryptionKeys(keyB64()));
    const ct = box.encrypt("refresh-token-123");
    expect(ct).not.toContain("refresh-token-123");
    expect(box.decrypt(ct)).toBe("refresh-token-123");
    expect(box.encrypt("x")).not.toBe(box.encrypt("x"));
  });

  it("decrypts with an older key after rotation and encrypts with the newest", () => {
    const old = `old:${keyB64()}`;
    const ct = createSecretBox(parseEncryptionKeys(old)).encrypt("s3cret");
    const rotated = createSecretBox(parseEncryptionKeys(`new:${keyB64()},${old}`));
    expect(rotated.decrypt(ct)).toBe("s3cret");
    expect(rotated.encrypt("y").split(".")[1]).toBe("new");
  });

  it("rejects tampered ciphertexts and unknown keys", () => {
    const box = createSecretBox(parseEncryptionKeys(keyB64()));
    const parts = box.encrypt("value").split(".");
    parts[4] = Buffer.from("other").toString("base64url");
    expect(() => box.decrypt(parts.join("."))).toThrow();
    const other = createSecretBox(parseEncryptionKeys(`zz:${keyB64()}`));
    expect(() => other.decrypt(box.encrypt("v"))).toThrow(/no encryption key/);
  });

  it("refuses keys of the wrong size", () => {
    expect(() => parseEncryptionKeys(Buffer.alloc(16).toString("base64"))).toThrow(/32 bytes/);
  });

  it("compares in constant time", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
  });
});
