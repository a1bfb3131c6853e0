import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SideEffectService, startSideEffectService } from "./fixtures/side-effects.js";
import { workflows as testWorkflows } from "./fixtures/test-workflows.js";
import { type Pipeline, startPipeline } from "./harness.js";

let pipeline: Pipeline;
let service: SideEffectService;
let api: string;
let endpoint: Awaited<ReturnType<Pipeline["standardEndpoint"]>>;

beforeAll(async () => {
  pipeline = await startPipeline({ workflows: testWorkflows, concurrency: 1 });
  service = await startSideEffectService();
  const t = await pipeline.setupTenant();
  api = t.apiKey;
  endpoint = await pipeline.standardEndpoint(api);
});
afterAll(async () => {
  await service?.close();
  await pipeline?.close();
});

let seq = 0;
async function start(type: string, data: Record<string, unknown> = {}) {
  const tag = `-${++seq}`;
  const res = await endpoint.send(type, { service: service.url, tag, ...data });
  expect(res.status).toBe(202);
  return { jobId: (res.json.jobIds as string[])[0]!, tag };
}
const job = (id: string, done: (j: Record<string, unknown>) => boolean, timeoutMs?: number) =>
  pipeline.waitForJob(api, id, done, timeoutMs);

describe("durable steps", () => {
  it("retries a step failing retryably twice, without repeating the steps before it", async () => {
    const { jobId, tag } = await start("test.three-steps");
    service.failNext(`two${tag}`, 503, 2);
    const done = await job(jobId, (j) => j.status === "COMPLETED" || j.status === "FAILED");
    expect(done).toMatchObject({ status: "COMPLETED", attempts: 3 });
    expect([service.count(`one${tag}`), service.count(`two${tag}`), service.count(`three${tag}`)]).toEqual([
      1, 3, 1,
    ]);
    const steps = done.steps as Array<{ name: string; attempt: number }>;
    expect(steps.map((s) => [s.name, s.attempt])).toEqual([
      ["one", 1],
      ["two", 3],
      ["three", 3],
    ]);
  });

  it("fails on the first attempt when a step throws a non-retriable error", async () => {
    const { jobId, tag } = await start("test.three-steps");
    service.failNext(`two${tag}`, 400, 1);
    const done = await job(jobId, (j) => j.status === "FAILED");
    expect(done).toMatchObject({ attempts: 1, error: { name: "NonRetriableError", retryable: false } });
    expect(service.count(`three${tag}`)).toBe(0);
  });

  it("fails invalid input at once, with a clear error and no retry", async () => {
    const res = await endpoint.send("test.three-steps", { service: "not a url" });
    const done = await job((res.json.jobIds as string[])[0]!, (j) => j.status === "FAILED");
    expect(done.attempts).toBe(1);
    expect((done.error as { message: string }).message).toMatch(/invalid input.*service/);
  });
});

describe("waiting without holding a worker slot", () => {
  it("runs other jobs while one sleeps (concurrency 1), shows it WAITING, then resumes it", async () => {
    const sleeping = await start("test.sleeper", { sleepMs: 2_000 });
    await job(sleeping.jobId, (j) => j.status === "WAITING");
    const others = await Promise.all([start("test.quick"), start("test.quick")]);
    for (const other of others) await job(other.jobId, (j) => j.status === "COMPLETED", 1_500);
    const stillWaiting = await pipeline.call("GET", `/api/jobs/${sleeping.jobId}`, { token: api });
    expect(stillWaiting.json.status).toBe("WAITING");
    expect(
      (stillWaiting.json.steps as Array<{ name: string; status: string }>).find((s) => s.name === "nap")
        ?.status,
    ).toBe("WAITING");
    const done = await job(sleeping.jobId, (j) => j.status === "COMPLETED", 10_000);
    expect(done.attempts).toBe(1);
    expect(service.count(`before${sleeping.tag}`)).toBe(1);
    expect(service.count(`after${sleeping.tag}`)).toBe(1);
  });

  it("resumes a job with the callback's body; a reused token is 409 and an unknown one 404", async () => {
    const { jobId, tag } = await start("test.callback", { timeoutMs: 30_000 });
    await job(jobId, (j) => j.status === "WAITING");
    const [notified] = service.bodies.get(`notify${tag}`) as Array<{ url: string }>;
    const path = new URL(notified!.url).pathname;
    const first = await pipeline.call("POST", path, { body: { approved: true } });
    expect(first.status).toBe(202);
    const done = await job(jobId, (j) => j.status === "COMPLETED");
    expect(done.result).toEqual({ approval: { approved: true } });
    expect((await pipeline.call("POST", path, { body: { approved: false } })).status).toBe(409);
    const unknown = await pipeline.call("POST", "/callbacks/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", {
      body: {},
    });
    expect(unknown.status).toBe(404);
  });

  it("fails the step when no callback arrives in time", async () => {
    const { jobId } = await start("test.callback", { timeoutMs: 500 });
    const done = await job(jobId, (j) => j.status === "FAILED", 10_000);
    expect((done.error as { message: string }).message).toMatch(/timed out/);
    expect(
      (done.steps as Array<{ name: string; status: string }>).find((s) => s.name === "approval")?.status,
    ).toBe("FAILED");
  });

  it("long-polls an external job until it is ready", async () => {
    const { jobId, tag } = await start("test.poller");
    const done = await job(jobId, (j) => j.status === "COMPLETED", 10_000);
    expect(done.result).toEqual({ ready: true, checks: 3 });
    expect(service.count(`check${tag}`)).toBe(3);
  });
});

describe("replay and cancel", () => {
  it("replays a FAILED job, reusing the steps that had succeeded", async () => {
    const { jobId, tag } = await start("test.three-steps");
    service.failNext(`three${tag}`, 400, 1);
    await job(jobId, (j) => j.status === "FAILED");
    const replay = await pipeline.call("POST", `/api/jobs/${jobId}/replay`, { token: api });
    expect(replay.status).toBe(202);
    const done = await job(jobId, (j) => j.status === "COMPLETED");
    expect(done.attempts).toBe(1);
    expect([service.count(`one${tag}`), service.count(`two${tag}`), service.count(`three${tag}`)]).toEqual([
      1, 1, 2,
    ]);
    // Only FAILED jobs replay.
    expect((await pipeline.call("POST", `/api/jobs/${jobId}/replay`, { token: api })).status).toBe(409);
  });

  it("replays from scratch when asked", async () => {
    const { jobId, tag } = await start("test.three-steps");
    service.failNext(`three${tag}`, 400, 1);
    await job(jobId, (j) => j.status === "FAILED");
    await pipeline.call("POST", `/api/jobs/${jobId}/replay?fromScratch=true`, { token: api });
    await job(jobId, (j) => j.status === "COMPLETED");
    expect([service.count(`one${tag}`), service.count(`two${tag}`), service.count(`three${tag}`)]).toEqual([
      2, 2, 2,
    ]);
  });

  it("cancels a WAITING job, which then never resumes", async () => {
    const { jobId, tag } = await start("test.sleeper", { sleepMs: 800 });
    await job(jobId, (j) => j.status === "WAITING");
    const res = await pipeline.call("POST", `/api/jobs/${jobId}/cancel`, { token: api });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("CANCELLED");
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await pipeline.call("GET", `/api/jobs/${jobId}`, { token: api })).json.status).toBe("CANCELLED");
    expect(service.count(`after${tag}`)).toBe(0);
    expect((await pipeline.call("POST", `/api/jobs/${jobId}/cancel`, { token: api })).status).toBe(409);
  });

  it("stops a RUNNING job at its next step boundary", async () => {
    const { jobId, tag } = await start("test.three-steps");
    service.hold(`two${tag}`);
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 5_000;
      const check = () =>
        service.count(`two${tag}`) > 0
          ? resolve()
          : Date.now() > deadline
            ? reject(new Error("step two never ran"))
            : setTimeout(check, 20);
      check();
    });
    const res = await pipeline.call("POST", `/api/jobs/${jobId}/cancel`, { token: api });
    expect(res.status).toBe(202);
    service.release(`two${tag}`);
    const done = await job(jobId, (j) => j.status === "CANCELLED");
    expect(service.count(`three${tag}`)).toBe(0);
    expect((done.steps as Array<{ name: string; status: string }>).map((s) => s.name)).toEqual([
      "one",
      "two",
    ]);
  });
});
