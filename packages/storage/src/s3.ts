/**
 * The S3 {@link ResultStore}, as its own entry so that local mode never loads the AWS SDK.
 *
 * @example
 * ```ts
 * import { createS3ResultStore } from "@zixly/storage/s3";
 * const results = createS3ResultStore({ bucket: process.env.S3_BUCKET!, region: "eu-west-1" });
 * ```
 *
 * @module
 */
import type { ResultStore } from "./result-store.js";

export { createS3ResultStore, type S3Credentials, type S3ResultStoreOptions } from "./s3-result-store.js";
export type { ResultStore };
