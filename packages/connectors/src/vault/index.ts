/**
 * @module @zixly/connectors/vault
 * OAuth token refresh and client-side rate limiting for connector credentials. The worker's
 * credential vault (Postgres, encrypted) uses these to keep tokens fresh.
 *
 * @example
 * ```ts
 * const tokens = await refreshAccessToken(xeroClient, storedRefreshToken);
 * const bucket = createTokenBucket(vendorRateLimits.xero);
 * await bucket.take();
 * ```
 */
export {
  isReauthorizationRequired,
  type OAuthClient,
  ReauthorizationRequiredError,
  refreshAccessToken,
  requestToken,
  type TokenSet,
} from "./oauth-refresh.js";
export { createTokenBucket, type TokenBucket, vendorRateLimits } from "./token-bucket.js";
