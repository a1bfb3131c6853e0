import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SideEffectService, startSideEffectService } from "./fixtures/side-effects.js";
import { workflows as testWorkflows } from "./fixtures/test-workflows.js";
import { type Pipeline, startPipeline } from "./harness.js";
import { spawnWorker, waitFor } from "./worker-process.js";

let pipeline: Pipeline;
let service: SideEffectService;
beforeAll(async () => {
  pipeline = await startPipeline({ worker: false, workflows: testWorkflows });
  service = await startSideEffectService();
});
afterAll(async () => {
  await service?.close();
  await pipeline?.close();
});

// Short leases so recovery after the kill happens within the test's patience.
const fastRecovery = { WORKER_LEASE_MS: "3000", QUEUE_LOCK_MS: "2000" };

describe("a worker killed mid-workflow", () => {
  it("completes after restart, and the finished steps' side effects happened exactly once", async () => {
    const t = await pipeline.setupTenant();
    const endpoint = await pipeline.standardEndpoint(t.apiKey);
    service.hold("three-crash"); // step three hangs: steps one and two are done and memoised

    const first = spawnWorker(pipeline, fastRecovery);
    let second: ReturnType<typeof spawnWorker> | undefined;
    try {
      await waitFor(
        () => first.output().includes("worker consuming jobs"),
        20_000,
        "the first worker to start",
      );
      const res = await endpoint.send("test.three-steps", { service: service.url, tag: "-crash" });
      expect(res.status).toBe(202);
      const jobId = (res.json.jobIds as string[])[0]!;
      await waitFor(() => service.count("three-crash") > 0, 10_000, "step three to start");

      first.child.kill("SIGKILL");
      expect((await first.exited).signal).toBe("SIGKILL");
      service.release("three-crash");

      second = spawnWorker(pipeline, fastRecovery);
      const done = await pipeline.waitForJob(
        t.apiKey,
        jobId,
        (j) => j.status === "COMPLETED" || j.status === "FAILED",
        30_000,
      );
      expect(done.status).toBe("COMPLETED");
      expect(service.count("one-crash")).toBe(1);
      expect(service.count("two-crash")).toBe(1);
      // Step three never finished before the kill, so it ran again: once cut off, once to completion.
      expect(service.count("three-crash")).toBe(2);
    } finally {
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill("SIGKILL");
      if (second) {
        second.child.kill("SIGTERM");
        await second.exited;
      }
    }
  });
});
