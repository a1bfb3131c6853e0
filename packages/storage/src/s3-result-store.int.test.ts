// The S3 result store against a real S3-compatible server: s3rver from npm (path-style, data in
// a temp dir), or LocalStack when LOCALSTACK_ENDPOINT is set.
import "./test-support/aws-sdk-guard.js";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isResultRef, storeIfLarge } from "./offload.js";
import { RESULT_NAME, type ResultStore, TenantKeyError } from "./result-store.js";
import { createS3ResultStore } from "./s3-result-store.js";
import { startTestS3, type TestS3 } from "./test-support/s3-server.js";

let s3: TestS3;
let store: ResultStore;

beforeAll(async () => {
  s3 = await startTestS3();
  store = createS3ResultStore({
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: s3.credentials,
  });
});

afterAll(async () => {
  await s3?.close();
});

describe(`s3 result store (${process.env.LOCALSTACK_ENDPOINT ? "LocalStack" : "s3rver"})`, () => {
  it("writes under <prefix><tenant>/<yyyy>/<mm>/<job id>/ and serves the bytes through a signed URL", async () => {
    const body = JSON.stringify({ invoices: Array.from({ length: 50 }, (_, i) => ({ id: i })) });
    const { key, size } = await store.put("tenant-a", "job-1", RESULT_NAME, body, "application/json", {
      at: new Date("2025-07-04T10:00:00Z"),
    });
    expect(key).toBe("results/tenant-a/2025/07/job-1/result.json");
    expect(size).toBe(Buffer.byteLength(body));

    const url = await store.signedUrl("tenant-a", key, 60);
    expect(url).toContain("X-Amz-Signature=");
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.text()).toBe(body);

    expect((await store.get("tenant-a", key))?.body.toString()).toBe(body);
    expect(await store.get("tenant-a", "results/tenant-a/2025/07/job-1/missing.json")).toBeUndefined();
  });

  it("gives another tenant nothing: no URL, no bytes, for a key that exists", async () => {
    const { key } = await store.put("tenant-a", "job-2", "record.json", "{}", "application/json");
    await expect(store.signedUrl("tenant-b", key, 60)).rejects.toBeInstanceOf(TenantKeyError);
    await expect(store.get("tenant-b", key)).rejects.toBeInstanceOf(TenantKeyError);
    // A tenant whose id is a string prefix of the owner's does not own it either.
    await expect(store.signedUrl("tenant", key, 60)).rejects.toBeInstanceOf(TenantKeyError);
  });

  it("a signed URL stops working once it has expired (403)", async () => {
    const { key } = await store.put("tenant-a", "job-3", RESULT_NAME, "short-lived", "text/plain");
    // X-Amz-Date is whole seconds, so a URL signed late in a second has up to 1 s less
    // than it asked for: 3 s leaves at least 2 s for the first fetch on a busy machine.
    const url = await store.signedUrl("tenant-a", key, 3);
    expect((await fetch(url)).status).toBe(200);
    await sleep(3_200);
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain("expired");
  });

  it("a job result over the threshold goes to S3 and its signed URL returns it", async () => {
    const result = { rows: "x".repeat(5_000) };
    const kept = await storeIfLarge({
      store,
      tenantId: "tenant-a",
      jobId: "job-4",
      name: RESULT_NAME,
      value: result,
      limitBytes: 1_024,
    });
    expect(isResultRef(kept)).toBe(true);
    if (!isResultRef(kept)) return;
    const response = await fetch(await store.signedUrl("tenant-a", kept.key, 60));
    expect(await response.json()).toEqual(result);
    const small = await storeIfLarge({
      store,
      tenantId: "tenant-a",
      jobId: "job-4",
      name: "small.json",
      value: { a: 1 },
      limitBytes: 1_024,
    });
    expect(small).toEqual({ a: 1 });
  });

  // s3rver does not verify SigV4 signatures; real S3 (and LocalStack) refuse a URL whose key was swapped.
  it.runIf(Boolean(process.env.LOCALSTACK_ENDPOINT))(
    "a signed URL cannot be re-pointed at another key",
    async () => {
      const mine = await store.put("tenant-a", "job-5", RESULT_NAME, "mine", "text/plain");
      const theirs = await store.put("tenant-b", "job-6", RESULT_NAME, "theirs", "text/plain");
      const url = await store.signedUrl("tenant-a", mine.key, 60);
      const swapped = url.replace(mine.key, theirs.key);
      expect((await fetch(swapped)).status).toBe(403);
    },
  );
});
