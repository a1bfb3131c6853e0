import type { HubspotContact, XeroContact, XeroInvoice } from "@zixly/connectors";
import { NonRetriableError, RetryAfterError } from "@zixly/core";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { xeroInvoicePaidToHubspot } from "../catalogue/xero-invoice-paid-to-hubspot.js";
import { defineWorkflow, type WorkflowEvent } from "../define-workflow.js";
import { createTestEngine, testWorkflow } from "./index.js";

const HOUR = 3_600_000;

/** Two side effects in two steps, each counted by the fake it calls. */
function twoSteps(retries?: { attempts: number; delayMs?: number }) {
  return defineWorkflow({
    id: "test-two-steps",
    trigger: { source: "standard", event: "test.two-steps" },
    input: z.object({ email: z.email() }),
    ...(retries
      ? {
          retries: {
            attempts: retries.attempts,
            backoff: { type: "exponential", delayMs: retries.delayMs ?? 1_000 },
          },
        }
      : {}),
    async run({ input, step, connectors, relate }) {
      const contact = await step.run("find-contact", () =>
        connectors.hubspot.upsertContactByEmail({ email: input.email }),
      );
      await relate({ system: "hubspot", recordType: "contact", recordId: contact.id, action: "read" });
      await step.run("update-contact", () => connectors.hubspot.updateContact(contact.id, { flag: "yes" }));
      return { contactId: contact.id };
    },
  });
}

const xeroContact = (email: string | null): XeroContact => ({
  id: "c-1",
  name: "Ana Reid",
  email,
  firstName: "Ana",
  lastName: "Reid",
});

const contact = (id = "hs-1") => ({ id, email: "ana@example.com", properties: {} });

function hubspotFakes() {
  return {
    upsertContactByEmail: vi.fn(async () => ({ ...contact(), created: false })),
    updateContact: vi.fn(async (id: string): Promise<HubspotContact> => contact(id)),
  };
}

describe("test engine: steps and retries", () => {
  it("runs a workflow to completion and reports steps, related records and result", async () => {
    const hubspot = hubspotFakes();
    const run = await testWorkflow(twoSteps(), {
      input: { email: "ana@example.com" },
      connectors: { hubspot },
    });
    expect(run).toMatchObject({
      status: "COMPLETED",
      result: { contactId: "hs-1" },
      error: undefined,
      attempts: 1,
      elapsedMs: 0,
      delays: [],
      relatedRecords: [{ system: "hubspot", recordType: "contact", recordId: "hs-1", action: "read" }],
    });
    expect(run.steps.map(({ name, status, attempt }) => ({ name, status, attempt }))).toEqual([
      { name: "find-contact", status: "COMPLETED", attempt: 1 },
      { name: "update-contact", status: "COMPLETED", attempt: 1 },
    ]);
    expect(run.steps[0]?.output).toEqual({ ...contact(), created: false });
  });

  it("replays finished steps from the memo on a retry: each side effect happens once", async () => {
    const hubspot = hubspotFakes();
    hubspot.updateContact.mockRejectedValueOnce(new Error("HubSpot 502"));
    const run = await testWorkflow(twoSteps({ attempts: 3, delayMs: 2_000 }), {
      input: { email: "ana@example.com" },
      connectors: { hubspot },
    });
    expect(run).toMatchObject({ status: "COMPLETED", attempts: 2, delays: [2_000], elapsedMs: 2_000 });
    expect(hubspot.upsertContactByEmail).toHaveBeenCalledTimes(1);
    expect(hubspot.updateContact).toHaveBeenCalledTimes(2);
    expect(run.steps.map((s) => [s.name, s.attempt])).toEqual([
      ["find-contact", 1],
      ["update-contact", 2],
    ]);
  });

  it("honours a RetryAfterError's delay instead of the backoff", async () => {
    const hubspot = hubspotFakes();
    hubspot.upsertContactByEmail.mockRejectedValueOnce(new RetryAfterError("HubSpot 429", 45_000));
    const run = await testWorkflow(twoSteps({ attempts: 3 }), {
      input: { email: "ana@example.com" },
      connectors: { hubspot },
    });
    expect(run).toMatchObject({ status: "COMPLETED", attempts: 2, delays: [45_000], elapsedMs: 45_000 });
  });

  it("fails at once on a NonRetriableError", async () => {
    const hubspot = hubspotFakes();
    hubspot.updateContact.mockRejectedValue(new NonRetriableError("HubSpot 404: contact gone"));
    const run = await testWorkflow(twoSteps({ attempts: 5 }), {
      input: { email: "ana@example.com" },
      connectors: { hubspot },
    });
    expect(run).toMatchObject({
      status: "FAILED",
      attempts: 1,
      delays: [],
      result: undefined,
      error: { name: "NonRetriableError", message: "HubSpot 404: contact gone", retryable: false },
    });
    expect(run.steps[1]).toMatchObject({
      name: "update-contact",
      status: "FAILED",
      error: { retryable: false },
    });
  });

  it("stops after the policy's attempts with exponential backoff between them", async () => {
    const hubspot = hubspotFakes();
    hubspot.updateContact.mockRejectedValue(new Error("HubSpot 503"));
    const run = await testWorkflow(twoSteps({ attempts: 4, delayMs: 1_000 }), {
      input: { email: "ana@example.com" },
      connectors: { hubspot },
    });
    expect(run).toMatchObject({
      status: "FAILED",
      attempts: 4,
      delays: [1_000, 2_000, 4_000],
      elapsedMs: 7_000,
      error: { message: "HubSpot 503", retryable: true },
    });
    expect(hubspot.updateContact).toHaveBeenCalledTimes(4);
    expect(hubspot.upsertContactByEmail).toHaveBeenCalledTimes(1);
  });

  it("takes maxAttempts over the policy, and jitter and the cap from the engine", async () => {
    const hubspot = hubspotFakes();
    hubspot.updateContact.mockRejectedValue(new Error("HubSpot 503"));
    const run = await testWorkflow(twoSteps({ attempts: 10, delayMs: 1_000 }), {
      input: { email: "ana@example.com" },
      connectors: { hubspot },
      maxAttempts: 4,
      random: () => 0,
      retryMaxDelayMs: 1_500,
    });
    // 0.8 × 1 000, 0.8 × 2 000, 0.8 × 4 000 capped at 1 500.
    expect(run).toMatchObject({ status: "FAILED", attempts: 4, delays: [800, 1_500, 1_500] });
  });

  it("fails at once, before any step, on input the schema refuses", async () => {
    const hubspot = hubspotFakes();
    const run = await testWorkflow(twoSteps(), {
      input: { email: "not an email" },
      connectors: { hubspot },
    });
    expect(run).toMatchObject({
      status: "FAILED",
      attempts: 1,
      steps: [],
      error: { name: "NonRetriableError", message: expect.stringContaining("email") },
    });
    expect(hubspot.upsertContactByEmail).not.toHaveBeenCalled();
  });

  it("fails at once when a step name is used twice", async () => {
    const twice = defineWorkflow({
      id: "test-twice",
      trigger: { source: "standard", event: "test.twice" },
      input: z.object({}),
      async run({ step }) {
        await step.run("same", () => 1);
        await step.run("same", () => 2);
      },
    });
    const run = await testWorkflow(twice, { input: {} });
    expect(run).toMatchObject({
      status: "FAILED",
      attempts: 1,
      error: { name: "NonRetriableError", message: expect.stringMatching(/step "same" twice/) },
    });
  });

  it("fails a step that calls a connector operation the test did not fake", async () => {
    const run = await testWorkflow(twoSteps({ attempts: 5 }), {
      input: { email: "ana@example.com" },
      connectors: { hubspot: { upsertContactByEmail: vi.fn(async () => ({ ...contact(), created: true })) } },
    });
    expect(run).toMatchObject({
      status: "FAILED",
      attempts: 1,
      error: { message: expect.stringContaining("connectors.hubspot.updateContact was called") },
    });
  });

  it("runs a catalogue workflow from a normalised event and checks its trigger", async () => {
    const event: WorkflowEvent = {
      source: "xero",
      type: "invoice.updated",
      id: "evt-1",
      accountId: "xero-tenant",
      data: { resourceId: "inv-1", tenantId: "xero-tenant", eventCategory: "INVOICE", eventType: "UPDATE" },
    };
    const invoice = { id: "inv-1", status: "AUTHORISED" } as XeroInvoice;
    const xero = { getInvoice: vi.fn(async () => invoice) };
    const run = await testWorkflow(xeroInvoicePaidToHubspot, { event, connectors: { xero } });
    expect(run).toMatchObject({ status: "COMPLETED", result: { skipped: "invoice not paid" } });
    expect(xero.getInvoice).toHaveBeenCalledWith("inv-1");

    await expect(
      testWorkflow(xeroInvoicePaidToHubspot, { event: { ...event, type: "invoice.created" } }),
    ).rejects.toThrow(/does not trigger workflow "xero-invoice-paid-to-hubspot"/);
  });
});

describe("test engine: waits in virtual time", () => {
  const sleeper = defineWorkflow({
    id: "test-sleeper",
    trigger: { source: "standard", event: "test.sleeper" },
    input: z.object({ sleepMs: z.number().int().positive() }),
    async run({ input, step }) {
      const before = await step.run("before", () => "before");
      await step.sleep("nap", input.sleepMs);
      const after = await step.run("after", () => "after");
      return { before, after };
    },
  });

  it("finishes a one-hour sleep at once, with the hour on the virtual clock", async () => {
    const engine = createTestEngine({ now: new Date("2026-03-01T09:00:00Z") });
    const started = performance.now();
    const run = await engine.run(sleeper, { input: { sleepMs: HOUR } });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(run).toMatchObject({
      status: "COMPLETED",
      attempts: 1,
      elapsedMs: HOUR,
      waits: [{ step: "nap", reason: "sleep", ms: HOUR }],
      result: { before: "before", after: "after" },
    });
    expect(run.steps.find((s) => s.name === "nap")?.output).toEqual({
      sleptUntil: "2026-03-01T10:00:00.000Z",
    });
    expect(new Date(engine.now()).toISOString()).toBe("2026-03-01T10:00:00.000Z");
  });

  const poller = defineWorkflow({
    id: "test-poller",
    trigger: { source: "standard", event: "test.poller" },
    input: z.object({ maxChecks: z.number() }),
    async run({ input, step, connectors }) {
      return step.poll("export-ready", {
        intervalMs: 5 * 60_000,
        maxChecks: input.maxChecks,
        // Ready once Xero has an email address for the contact.
        check: async () => {
          const contact = await connectors.xero.getContact("c-1");
          return contact.email ? contact : null;
        },
      });
    },
  });

  it("polls every interval in virtual time until the check answers", async () => {
    const getContact = vi.fn(async () => xeroContact("ana@example.com"));
    getContact.mockResolvedValueOnce(xeroContact(null)).mockResolvedValueOnce(xeroContact(null));
    const run = await testWorkflow(poller, {
      input: { maxChecks: 10 },
      connectors: { xero: { getContact } },
    });
    expect(run).toMatchObject({
      status: "COMPLETED",
      attempts: 1,
      result: { email: "ana@example.com" },
      elapsedMs: 600_000,
    });
    expect(run.waits.map((w) => [w.reason, w.ms])).toEqual([
      ["poll", 300_000],
      ["poll", 300_000],
    ]);
    expect(getContact).toHaveBeenCalledTimes(3);
  });

  it("gives a poll up after maxChecks", async () => {
    const getContact = vi.fn(async () => xeroContact(null));
    const run = await testWorkflow(poller, { input: { maxChecks: 3 }, connectors: { xero: { getContact } } });
    expect(run).toMatchObject({
      status: "FAILED",
      attempts: 1,
      error: { name: "NonRetriableError", message: 'step "export-ready" gave up after 3 checks' },
    });
    expect(getContact).toHaveBeenCalledTimes(3);
  });
});

describe("test engine: callbacks", () => {
  const notify = vi.fn<(callback: { url: string; token: string }) => void>();
  const approval = defineWorkflow({
    id: "test-approval",
    trigger: { source: "standard", event: "test.approval" },
    input: z.object({ amount: z.number() }),
    async run({ input, step }) {
      const answer = await step.waitForCallback<{ approved: boolean }>("approval", {
        timeoutMs: 24 * HOUR,
        notify,
      });
      const booked = await step.run("book", () => (answer.approved ? input.amount : 0));
      return { approved: answer.approved, booked };
    },
  });

  it("stops WAITING with the issued callback, and goes on once it is delivered", async () => {
    notify.mockClear();
    const engine = createTestEngine();
    const waiting = await engine.run(approval, { input: { amount: 120 } });
    expect(waiting).toMatchObject({
      status: "WAITING",
      attempts: 1,
      waitingFor: { step: "approval", reason: "callback", resumeInMs: 24 * HOUR },
    });
    const issued = waiting.waitingFor?.callback;
    expect(notify).toHaveBeenCalledWith(issued);
    expect(issued?.url).toBe(`https://zixly.test/callbacks/${issued?.token}`);

    expect(engine.deliverCallback("nope", {})).toBe("unknown");
    expect(engine.deliverCallback(issued!.token, { approved: true })).toBe("ok");
    expect(engine.deliverCallback(issued!.token, { approved: false })).toBe("used");
    const done = await engine.resume(waiting.jobId);
    expect(done).toMatchObject({
      status: "COMPLETED",
      attempts: 1,
      result: { approved: true, booked: 120 },
      elapsedMs: 0,
      waits: [{ step: "approval", reason: "callback", ms: 0 }],
    });
  });

  it("delivers declared callback bodies, computed from the callback when given a function", async () => {
    const run = await testWorkflow(approval, {
      input: { amount: 80 },
      callbacks: { approval: ({ url }: { url: string }) => ({ approved: url.includes("/callbacks/") }) },
    });
    expect(run).toMatchObject({ status: "COMPLETED", result: { approved: true, booked: 80 } });

    const declined = await testWorkflow(approval, {
      input: { amount: 80 },
      callbacks: { approval: { approved: false } },
    });
    expect(declined.result).toEqual({ approved: false, booked: 0 });
  });

  it("completes at once when the callback arrives while notify still runs", async () => {
    const engine = createTestEngine();
    notify.mockImplementationOnce(({ token }) => {
      engine.deliverCallback(token, { approved: true });
    });
    const run = await engine.run(approval, { input: { amount: 5 } });
    expect(run).toMatchObject({ status: "COMPLETED", waits: [], result: { approved: true, booked: 5 } });
  });

  it("fails the step when no callback comes before the timeout, in virtual time", async () => {
    const engine = createTestEngine();
    const waiting = await engine.run(approval, { input: { amount: 120 } });
    const failed = await engine.resume(waiting.jobId);
    expect(failed).toMatchObject({
      status: "FAILED",
      attempts: 1,
      elapsedMs: 24 * HOUR,
      error: { name: "NonRetriableError", message: expect.stringMatching(/timed out after 86400000 ms/) },
    });
    expect(engine.deliverCallback(waiting.waitingFor!.callback!.token, { approved: true })).toBe("expired");
  });

  it("resumes with a callback body given to resume", async () => {
    const engine = createTestEngine();
    const waiting = await engine.run(approval, { input: { amount: 7 } });
    const done = await engine.resume(waiting.jobId, { callback: { approved: true } });
    expect(done.result).toEqual({ approved: true, booked: 7 });
  });
});

describe("test engine: cancel and replay", () => {
  it("cancels a running job at its next step boundary", async () => {
    const engine = createTestEngine();
    const hubspot = hubspotFakes();
    hubspot.upsertContactByEmail.mockImplementationOnce(async () => {
      engine.cancel("job-to-cancel");
      return { ...contact(), created: false };
    });
    const run = await engine.run(twoSteps(), {
      jobId: "job-to-cancel",
      input: { email: "ana@example.com" },
      connectors: { hubspot },
    });
    expect(run).toMatchObject({ status: "CANCELLED", attempts: 1 });
    expect(run.steps.map((s) => s.name)).toEqual(["find-contact"]);
    expect(hubspot.updateContact).not.toHaveBeenCalled();
  });

  it("cancels a WAITING job at once", async () => {
    const waits = defineWorkflow({
      id: "test-waits",
      trigger: { source: "standard", event: "test.waits" },
      input: z.object({}),
      async run({ step }) {
        await step.waitForCallback("go", { timeoutMs: HOUR });
        await step.run("after", () => "after");
      },
    });
    const engine = createTestEngine();
    const waiting = await engine.run(waits, { input: {} });
    engine.cancel(waiting.jobId);
    expect(engine.inspect(waiting.jobId)).toMatchObject({ status: "CANCELLED", waitingFor: undefined });
    await expect(engine.resume(waiting.jobId)).rejects.toThrow(
      /CANCELLED; only a WAITING run can be resumed/,
    );
  });

  it("replays a FAILED job from its memo, or from scratch", async () => {
    const engine = createTestEngine();
    const hubspot = hubspotFakes();
    hubspot.updateContact.mockRejectedValueOnce(new NonRetriableError("missing property"));
    const failed = await engine.run(twoSteps(), {
      input: { email: "ana@example.com" },
      connectors: { hubspot },
    });
    expect(failed.status).toBe("FAILED");

    const replayed = await engine.replay(failed.jobId);
    expect(replayed).toMatchObject({ status: "COMPLETED", attempts: 1 });
    expect(hubspot.upsertContactByEmail).toHaveBeenCalledTimes(1);

    hubspot.updateContact.mockRejectedValueOnce(new NonRetriableError("again"));
    const second = await engine.run(twoSteps(), {
      input: { email: "ana@example.com" },
      connectors: { hubspot },
    });
    await engine.replay(second.jobId, { fromScratch: true });
    expect(hubspot.upsertContactByEmail).toHaveBeenCalledTimes(3);
  });
});
