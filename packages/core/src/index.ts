/**
 * @module @zixly/core
 * Shared building blocks: retry-steering errors and secrets at rest.
 *
 * @example
 * ```ts
 * import { NonRetriableError, createSecretBox, parseEncryptionKeys } from "@zixly/core";
 * const box = createSecretBox(parseEncryptionKeys(env.ZIXLY_ENCRYPTION_KEY));
 * throw new NonRetriableError("invoice not found");
 * ```
 */

export { type Batcher, type BatcherOptions, createBatcher } from "./batcher.js";
export {
  createSecretBox,
  type EncryptionKey,
  parseEncryptionKeys,
  randomToken,
  type SecretBox,
  safeEqual,
  sha256Hex,
} from "./crypto.js";
export {
  isNonRetriableError,
  NonRetriableError,
  RetryAfterError,
  retryAfterMsOf,
  type SerializedError,
  serializeError,
} from "./errors.js";
export {
  type CreateLoggerOptions,
  createLogger,
  type Logger,
  redactedPaths,
  redactSensitive,
} from "./logger.js";
export { stopOnSignals } from "./shutdown.js";
