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
export {
  NonRetriableError,
  RetryAfterError,
  isNonRetriableError,
  retryAfterMsOf,
  serializeError,
  type SerializedError,
} from "./errors.js";
export {
  createSecretBox,
  parseEncryptionKeys,
  randomToken,
  safeEqual,
  sha256Hex,
  type EncryptionKey,
  type SecretBox,
} from "./crypto.js";
export { createLogger, redactedPaths, type CreateLoggerOptions, type Logger } from "./logger.js";
