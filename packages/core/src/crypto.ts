import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Secrets at rest: AES-256-GCM with a key id in every ciphertext, so keys can rotate —
 * encrypt with the newest key, decrypt with whichever key the ciphertext names.
 * Format: `v1.<keyId>.<iv b64url>.<tag b64url>.<ciphertext b64url>`.
 */
export interface EncryptionKey {
  id: string;
  /** 32 raw bytes. */
  key: Buffer;
}

export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
}

/**
 * Parses `ZIXLY_ENCRYPTION_KEY`: one or more comma-separated `keyId:base64key` entries (or a
 * bare base64 key, id `k1`); the first entry encrypts, all decrypt.
 */
export function parseEncryptionKeys(value: string): EncryptionKey[] {
  const entries = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error("no encryption key given");
  return entries.map((entry, index) => {
    const sep = entry.indexOf(":");
    const id = sep > 0 ? entry.slice(0, sep) : `k${index + 1}`;
    const key = Buffer.from(sep > 0 ? entry.slice(sep + 1) : entry, "base64");
    if (key.length !== 32) throw new Error(`encryption key "${id}" must be 32 bytes, base64-encoded`);
    if (!/^[A-Za-z0-9_-]+$/.test(id))
      throw new Error(`encryption key id "${id}" may only use letters, digits, _ and -`);
    return { id, key };
  });
}

export function createSecretBox(keys: readonly EncryptionKey[]): SecretBox {
  const current = keys[0];
  if (!current) throw new Error("createSecretBox needs at least one key");
  const byId = new Map(keys.map((k) => [k.id, k.key]));
  return {
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [
        "v1",
        current.id,
        iv.toString("base64url"),
        cipher.getAuthTag().toString("base64url"),
        body.toString("base64url"),
      ].join(".");
    },
    decrypt(ciphertext) {
      const [version, keyId, iv, tag, body] = ciphertext.split(".");
      if (version !== "v1" || !keyId || !iv || !tag || body === undefined)
        throw new Error("not a Zixly ciphertext");
      const key = byId.get(keyId);
      if (!key) throw new Error(`no encryption key with id "${keyId}" is configured`);
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString(
        "utf8",
      );
    },
  };
}

/** SHA-256 hex digest: how API keys are stored (they are 256-bit random, so no slow hash is needed). */
export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time comparison of two strings (length mismatch returns false without early exit on content). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** A URL-safe random token with `bytes` of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}
