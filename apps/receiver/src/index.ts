/**
 * @module @zixly/receiver
 * The receiver's Express app, for embedding and tests; `main.ts` is the process.
 *
 * @example
 * ```ts
 * const app = createReceiverApp({ prisma, queue, registry, secretBox, log, config });
 * app.listen(3000);
 * ```
 */
export { createReceiverApp } from "./app.js";
export { loadReceiverEnv, type ReceiverEnv } from "./env.js";
export type { ReceiverDeps } from "./http/context.js";
export { createRedisRateLimiter, type RateLimiter, type RateLimitPolicy } from "./http/rate-limit.js";
export { type OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from "./ingest/outbox-relay.js";
export { type OAuthProvider, type OAuthSettings, oauthProviders } from "./oauth/providers.js";
export { type ReceiverOverrides, type RunningReceiver, startReceiver } from "./server.js";
export { xeroEventKey } from "./sources/xero.js";
