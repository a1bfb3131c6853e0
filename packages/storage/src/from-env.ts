import type { ResultStore } from "./result-store.js";

/** The result-store variables both apps read (see `.env.example`). */
export interface ResultStoreEnv {
  S3_BUCKET?: string | undefined;
  S3_RESULTS_PREFIX: string;
  AWS_REGION?: string | undefined;
  AWS_ENDPOINT_URL?: string | undefined;
}

/**
 * The S3 result store the environment names, or `undefined` when `S3_BUCKET` is unset. The
 * AWS SDK is imported only when a bucket is configured.
 */
export async function resultStoreFromEnv(env: ResultStoreEnv): Promise<ResultStore | undefined> {
  if (!env.S3_BUCKET) return undefined;
  const { createS3ResultStore } = await import("./s3.js");
  return createS3ResultStore({
    bucket: env.S3_BUCKET,
    region: env.AWS_REGION ?? "us-east-1",
    keyPrefix: env.S3_RESULTS_PREFIX,
    // LocalStack (and other S3-compatible endpoints) need path-style addressing.
    ...(env.AWS_ENDPOINT_URL ? { endpoint: env.AWS_ENDPOINT_URL, forcePathStyle: true } : {}),
  });
}
