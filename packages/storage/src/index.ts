/**
 * @module @zixly/storage
 * Where Zixly keeps what does not belong in Postgres rows or environment variables: large job
 * results, step outputs and job records (a {@link ResultStore}, S3 in AWS mode), and secrets (a
 * {@link SecretsProvider}: environment locally, Secrets Manager in AWS mode). This entry has the
 * interfaces and the local implementations; the AWS ones are separate entries, so local mode
 * never loads the AWS SDK: `@zixly/storage/s3`, `@zixly/storage/secrets-manager`.
 *
 * @example
 * ```ts
 * import { createEnvSecretsProvider, RESULT_NAME, storeIfLarge } from "@zixly/storage";
 * import { createS3ResultStore } from "@zixly/storage/s3";
 *
 * const secrets = createEnvSecretsProvider(process.env);
 * const results = createS3ResultStore({ bucket: "zixly-results", region: "eu-west-1" });
 * const kept = await storeIfLarge({ store: results, tenantId, jobId, name: RESULT_NAME, value: result });
 * const url = await results.signedUrl(tenantId, (kept as ResultRef).key, 300);
 * ```
 */

export { type ResultStoreEnv, resultStoreFromEnv } from "./from-env.js";
export {
  DEFAULT_INLINE_LIMIT_BYTES,
  isResultRef,
  type ResultRef,
  type StoreIfLargeInput,
  storeIfLarge,
} from "./offload.js";
export {
  assertTenantKey,
  JOB_RECORD_NAME,
  type PutOptions,
  parseResultKey,
  RESULT_NAME,
  type ResultObject,
  type ResultStore,
  resultKey,
  type StoredObject,
  stepOutputName,
  TenantKeyError,
} from "./result-store.js";
export {
  createRefreshingSecretBox,
  MANAGED_SECRET_NAMES,
  managedSecretsFromEnv,
  withManagedSecrets,
} from "./secret-box.js";
export { createEnvSecretsProvider, MissingSecretError, type SecretsProvider, withSecret } from "./secrets.js";
