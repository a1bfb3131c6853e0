import { createHmac } from "node:crypto";
import { safeEqual } from "@zixly/core";

/** HMAC-SHA256 of `payload` under `secret`, in the given encoding. */
export function hmacSha256(
  secret: string | Buffer,
  payload: string | Buffer,
  encoding: "base64" | "hex",
): string {
  return createHmac("sha256", secret).update(payload).digest(encoding);
}

/** True when `received` equals the HMAC under any of `secrets` (constant-time per comparison). */
export function matchesAnySecret(
  secrets: readonly string[],
  received: string | undefined,
  expectedFor: (secret: string) => string,
): boolean {
  if (!received) return false;
  let ok = false;
  // Compare against every secret, without short-circuiting, so timing does not tell which matched.
  for (const secret of secrets) ok = safeEqual(expectedFor(secret), received) || ok;
  return ok;
}
