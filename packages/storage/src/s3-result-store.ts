/**
 * The {@link ResultStore} on S3 (or anything that speaks its API: LocalStack, s3rver). Objects
 * stay private (Terraform blocks public access); a reader gets a presigned GET URL for exactly
 * one key, and only after the key was checked to be its tenant's.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  assertKeyPrefix,
  assertTenantKey,
  type PutOptions,
  type ResultObject,
  type ResultStore,
  resultKey,
  type StoredObject,
} from "./result-store.js";

/** Static AWS credentials (otherwise the SDK's default chain: env, profile, role). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of {@link createS3ResultStore}. */
export interface S3ResultStoreOptions {
  /** The bucket (`S3_BUCKET`). */
  bucket: string;
  /** AWS region (`AWS_REGION`). */
  region: string;
  /** Endpoint override (`AWS_ENDPOINT_URL`: LocalStack, s3rver). */
  endpoint?: string;
  /** Path-style requests (`<endpoint>/<bucket>/<key>`); needed for LocalStack and s3rver. */
  forcePathStyle?: boolean;
  credentials?: S3Credentials;
  /** A ready client instead of one built from the options above. */
  client?: S3Client;
  /**
   * Prefix of every key, ending in `/` (or empty). Default `results/`: the prefix whose objects
   * `terraform/modules/storage` expires after `results_expiration_days`.
   */
  keyPrefix?: string;
}

const MAX_URL_TTL_SEC = 7 * 24 * 3600;

/**
 * Create a {@link ResultStore} on an S3 bucket.
 *
 * @example
 * ```ts
 * const results = createS3ResultStore({ bucket: env.S3_BUCKET, region: env.AWS_REGION });
 * const { key } = await results.put(tenantId, jobId, "result.json", JSON.stringify(result), "application/json");
 * const url = await results.signedUrl(tenantId, key, 300);
 * ```
 */
export function createS3ResultStore(options: S3ResultStoreOptions): ResultStore {
  const prefix = options.keyPrefix ?? "results/";
  assertKeyPrefix(prefix);
  if (!options.bucket) throw new TypeError("createS3ResultStore: bucket is required");
  const { bucket } = options;
  const s3 =
    options.client ??
    new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.forcePathStyle !== undefined ? { forcePathStyle: options.forcePathStyle } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });

  return {
    async put(tenantId, jobId, name, body, contentType, putOptions: PutOptions = {}): Promise<StoredObject> {
      const key = resultKey({ prefix, tenantId, jobId, name, at: putOptions.at ?? new Date() });
      const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: contentType,
          Metadata: { "tenant-id": tenantId, "job-id": jobId },
        }),
      );
      return { key, size: bytes.length, contentType };
    },

    async signedUrl(tenantId, key, ttlSec) {
      assertTenantKey(prefix, tenantId, key);
      if (!(Number.isInteger(ttlSec) && ttlSec >= 1 && ttlSec <= MAX_URL_TTL_SEC)) {
        throw new RangeError(`signedUrl: ttlSec must be an integer between 1 and ${MAX_URL_TTL_SEC}`);
      }
      return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: ttlSec });
    },

    async get(tenantId, key): Promise<ResultObject | undefined> {
      assertTenantKey(prefix, tenantId, key);
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = Buffer.from(await out.Body!.transformToByteArray());
        return { body, contentType: out.ContentType ?? "application/octet-stream" };
      } catch (error) {
        if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") return undefined;
        throw error;
      }
    },
  };
}
