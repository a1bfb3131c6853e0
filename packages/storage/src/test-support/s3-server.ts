/**
 * The S3 the result-store tests use: LocalStack when `LOCALSTACK_ENDPOINT` is set, otherwise a
 * real S3-compatible server from npm, s3rver, on a free port with its data in a temp directory.
 * s3rver checks that presigned URLs have not expired, but verifies no SigV4 signature and lets
 * unsigned requests in: what it cannot show, only LocalStack or AWS can (see docs/aws.md).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** An S3 endpoint with one fresh bucket. */
export interface TestS3 {
  kind: "localstack" | "s3rver";
  endpoint: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Remove the bucket (and the server, for s3rver). */
  close(): Promise<void>;
}

/** Start s3rver (or use LocalStack) with a fresh bucket. */
export async function startTestS3(): Promise<TestS3> {
  const region = process.env.AWS_REGION ?? "us-east-1";
  const bucket = `zixly-test-${randomUUID()}`;
  const localstack = process.env.LOCALSTACK_ENDPOINT;
  if (localstack) {
    const credentials = { accessKeyId: "test", secretAccessKey: "test" };
    const s3 = new S3Client({ region, endpoint: localstack, forcePathStyle: true, credentials });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    return {
      kind: "localstack",
      endpoint: localstack,
      region,
      bucket,
      credentials,
      async close() {
        const { Contents } = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
        for (const object of Contents ?? [])
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
        await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
        s3.destroy();
      },
    };
  }
  const directory = await mkdtemp(path.join(tmpdir(), "zixly-s3rver-"));
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  return {
    kind: "s3rver",
    endpoint: `http://127.0.0.1:${port}`,
    region,
    bucket,
    // s3rver's built-in account.
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
