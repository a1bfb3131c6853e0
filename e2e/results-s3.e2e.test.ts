import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workflows as testWorkflows } from "./fixtures/test-workflows.js";
import { type Pipeline, startPipeline } from "./harness.js";

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await startPipeline({ workflows: testWorkflows, resultsInlineLimitBytes: 4_096 });
});
afterAll(async () => {
  await pipeline?.close();
});

describe("large results in the result store (S3)", () => {
  it("keeps a result over the threshold in S3 with a working signed URL; another tenant gets nothing", async () => {
    const a = await pipeline.setupTenant("Reports A");
    const b = await pipeline.setupTenant("Reports B");
    const endpoint = await pipeline.standardEndpoint(a.apiKey);
    const res = await endpoint.send("test.big-result", { kb: 20 });
    expect(res.status).toBe(202);
    const jobId = (res.json.jobIds as string[])[0]!;
    // The execution record is written just after the job is marked COMPLETED: wait for it too.
    const job = await pipeline.waitForJob(
      a.apiKey,
      jobId,
      (j) => (j.status === "COMPLETED" && typeof j.recordUrl === "string") || j.status === "FAILED",
    );
    expect(job.status).toBe("COMPLETED");

    // Postgres keeps a reference under the tenant's prefix, not the 20 KB value.
    const row = await pipeline.db.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    const ref = row.result as { $ref: string; key: string; size: number };
    expect(ref.$ref).toBe("result-store");
    expect(ref.key).toMatch(new RegExp(`^results/${a.tenantId}/\\d{4}/\\d{2}/${jobId}/result\\.json$`));
    expect(ref.size).toBeGreaterThan(20_000);

    const download = await fetch(job.resultUrl as string);
    expect(download.status).toBe(200);
    expect(((await download.json()) as { rows: number }).rows).toBe(20);

    // The step output went to S3 too, and a replay would read it back; the execution record is there.
    const step = (job.steps as Array<{ name: string; outputUrl?: string }>).find(
      (s) => s.name === "build-report",
    );
    expect(step?.outputUrl).toBeTruthy();
    expect(((await (await fetch(step!.outputUrl!)).json()) as unknown[]).length).toBe(20);
    const record = (await (await fetch(job.recordUrl as string)).json()) as {
      id: string;
      status: string;
      input: { source?: string } | null;
    };
    expect(record).toMatchObject({ id: jobId, status: "COMPLETED" });
    // The input lives in the inbox event (jobs.input is NULL); the record carries it whole.
    expect(record.input?.source).toEqual(expect.any(String));

    // Tenant isolation: B cannot see the job, and the store refuses to sign A's key for B.
    expect((await pipeline.call("GET", `/api/jobs/${jobId}`, { token: b.apiKey })).status).toBe(404);
    await expect(pipeline.resultStore!.signedUrl(b.tenantId, ref.key, 60)).rejects.toThrow();
  });

  it("keeps small results inline", async () => {
    const t = await pipeline.setupTenant("Small");
    const endpoint = await pipeline.standardEndpoint(t.apiKey);
    const res = await endpoint.send("test.big-result", { kb: 1 });
    const job = await pipeline.waitForJob(
      t.apiKey,
      (res.json.jobIds as string[])[0]!,
      (j) => j.status === "COMPLETED",
    );
    expect((job.result as { rows: number }).rows).toBe(1);
    expect(job.resultUrl).toBeUndefined();
  });
});
