import { type SerializedError, serializeError } from "@zixly/core";
import type { z } from "zod";
import type {
  Jsonified,
  RelatedRecordInput,
  WorkflowDefinition,
  WorkflowEvent,
  WorkflowLogger,
} from "../define-workflow.js";
import { decideRetry } from "../engine/retry-decision.js";
import { runWorkflow } from "../engine/run-workflow.js";
import { isJobCancelled, isWorkflowSuspended, type WorkflowSuspended } from "../engine/signals.js";
import { createMemoryStepStore, type StoredStep } from "../engine/step-store.js";
import { type AnyWorkflow, createWorkflowRegistry } from "../registry.js";
import { type FakeConnectors, guardConnectors } from "./fake-connectors.js";

/** Where a test run ended up, with the job statuses the worker uses. */
export type TestRunStatus = "COMPLETED" | "FAILED" | "WAITING" | "CANCELLED";

/** A step of a test run, as the job's step list shows it. */
export interface TestStep {
  name: string;
  status: StoredStep["status"];
  /** The attempt that last touched the step. */
  attempt: number;
  /** The memoised result (a wait state while WAITING, `null` while RUNNING or after a failure). */
  output: unknown;
  error?: SerializedError;
}

/** One wait the engine let pass in virtual time. */
export interface TestWait {
  step: string;
  reason: WorkflowSuspended["reason"];
  /** Virtual time waited: the sleep, the poll interval, or until the callback came or timed out. */
  ms: number;
}

/** What a WAITING run waits for. */
export interface TestWaitingFor {
  step: string;
  reason: WorkflowSuspended["reason"];
  /** Virtual time at which the worker would wake the job (a callback's timeout). */
  wakeAt: string;
  resumeInMs: number;
  /** The one-time callback the step handed out (`POST <url>` with a JSON body completes it). */
  callback?: { url: string; token: string };
}

/** A line the workflow or the engine logged during the run. */
export interface TestLogEntry {
  level: "info" | "warn" | "error";
  msg: string | undefined;
  fields: object;
}

/** The outcome of {@link TestEngine.run}: the job as an operator would see it, plus timing. */
export interface TestRunResult<TResult = unknown> {
  jobId: string;
  status: TestRunStatus;
  /** The workflow's return value after the JSON round trip the job record applies; set once COMPLETED. */
  result: Jsonified<TResult> | undefined;
  /** Why the run FAILED (the final attempt's error). */
  error: SerializedError | undefined;
  /** Attempts spent, counting as the worker does: resuming after a wait is not a new attempt. */
  attempts: number;
  /** Steps in the order the workflow first reached them. */
  steps: TestStep[];
  relatedRecords: RelatedRecordInput[];
  /** Virtual time from the first attempt to now. */
  elapsedMs: number;
  /** Delays between failed attempts and their retries (Retry-After or backoff). */
  delays: number[];
  /** Waits (sleep, callback, poll) the run resumed from. */
  waits: TestWait[];
  /** Set while WAITING: the callback nobody has delivered yet. */
  waitingFor: TestWaitingFor | undefined;
  logs: TestLogEntry[];
}

/** A callback body for a step, or a function of the issued callback that returns one. */
export type TestCallbackReply = unknown | ((callback: { url: string; token: string }) => unknown);

interface TestRunCommon<TConnectors> {
  /** Fakes for the operations the workflow calls; anything else fails the step when called. */
  connectors?: FakeConnectors<TConnectors>;
  /**
   * Callback bodies by step name, delivered as soon as the step waits (as if the other system
   * answered at once). A callback step with no entry leaves the run WAITING.
   */
  callbacks?: Record<string, TestCallbackReply>;
  /** Overrides the workflow's `retries.attempts`. */
  maxAttempts?: number;
  /** Job id (default `job-1`, `job-2`, … per engine); {@link TestEngine.cancel} takes it. */
  jobId?: string;
  tenantId?: string;
  /** Check that `event` triggers the workflow (its source, type and filter). Default `true`. */
  checkTrigger?: boolean;
}

/** How a run gets its input: a normalised event (through `toInput`), or the input itself. */
export type TestRunOptions<TSchema extends z.ZodType, TConnectors> = TestRunCommon<TConnectors> &
  (
    | { event: WorkflowEvent; input?: undefined }
    | { /** Bypasses `toInput`; still validated by the schema. */ input: z.input<TSchema>; event?: undefined }
  );

export interface TestEngineOptions {
  /** Virtual time the engine starts at (default 2026-01-01T00:00:00Z). */
  now?: number | Date;
  /** Jitter source for backoff delays; default `() => 0.5`, which gives the policy's exact delay. */
  random?: () => number;
  /** Cap on a backoff delay, as the worker's `RETRY_MAX_DELAY_MS` (default 15 minutes). */
  retryMaxDelayMs?: number;
  /** Base of callback URLs (default `https://zixly.test`). */
  callbackBaseUrl?: string;
  /** Wake-ups one `run`/`resume` may take before the engine gives up (default 10 000). */
  maxWakeUps?: number;
}

/** Answer to a callback delivery, as `POST /callbacks/:token` would give it (202, 404, 404, 409). */
export type CallbackDelivery = "ok" | "unknown" | "expired" | "used";

/**
 * Runs workflows in-process with the worker's step semantics, in virtual time. See
 * {@link createTestEngine}.
 */
export interface TestEngine {
  /** The virtual clock, in milliseconds since the epoch. */
  now(): number;
  /**
   * Runs a workflow until it is COMPLETED, FAILED or CANCELLED, retrying failed attempts per its
   * policy and letting sleeps, polls and backoff pass in virtual time. Stops WAITING when a
   * callback step waits for a callback the options do not supply.
   */
  run<TSchema extends z.ZodType, TResult, TConnectors>(
    workflow: WorkflowDefinition<TSchema, TResult, TConnectors>,
    options: TestRunOptions<TSchema, TConnectors>,
  ): Promise<TestRunResult<TResult>>;
  /**
   * Continues a WAITING run. With `callback`, delivers that body to the step it waits on first;
   * without one (and without an earlier {@link TestEngine.deliverCallback}), lets virtual time
   * pass to the wake-up, which for a callback is its timeout.
   */
  resume<TResult = unknown>(jobId: string, options?: { callback?: unknown }): Promise<TestRunResult<TResult>>;
  /** `POST /callbacks/:token`: completes the waiting step; the run goes on at the next {@link TestEngine.resume}. */
  deliverCallback(token: string, body?: unknown): CallbackDelivery;
  /**
   * `POST /api/jobs/:id/cancel`: a WAITING run is cancelled at once; a running one (call this
   * from a fake) stops at its next step boundary.
   */
  cancel(jobId: string): void;
  /**
   * `POST /api/jobs/:id/replay`: runs a FAILED job again with fresh attempts, keeping its
   * completed steps unless `fromScratch`.
   */
  replay<TResult = unknown>(
    jobId: string,
    options?: { fromScratch?: boolean },
  ): Promise<TestRunResult<TResult>>;
  /** The job as it stands now, without running it. */
  inspect<TResult = unknown>(jobId: string): TestRunResult<TResult>;
  /** The memory step store behind every run, for assertions the result does not cover. */
  readonly store: ReturnType<typeof createMemoryStepStore>;
}

type Phase = "QUEUED" | "RUNNING" | TestRunStatus;

interface JobState {
  jobId: string;
  tenantId: string;
  definition: WorkflowDefinition<z.ZodType, unknown, unknown>;
  event: WorkflowEvent;
  connectors: unknown;
  callbacks: Record<string, TestCallbackReply>;
  maxAttempts: number;
  attempts: number;
  phase: Phase;
  /** Virtual time the job is due to run (again). */
  dueAt: number;
  startedAt: number;
  suspended: { waitingFor: TestWaitingFor; at: number } | undefined;
  result: unknown;
  error: SerializedError | undefined;
  delays: number[];
  waits: TestWait[];
  logs: TestLogEntry[];
}

const DEFAULT_START = Date.parse("2026-01-01T00:00:00.000Z");

/**
 * Creates an engine that runs workflows the way the worker does — the real `runWorkflow`, steps
 * memoised in a memory store across attempts, the worker's retry rule (Retry-After honoured,
 * `NonRetriableError` final, the attempt limit) — but in one process and in virtual time: a
 * one-hour `step.sleep` or a backoff delay moves a fake clock instead of waiting.
 *
 * @example
 * ```ts
 * const engine = createTestEngine();
 * const run = await engine.run(invoicePaidToCrm, {
 *   event,
 *   connectors: { xero: { getInvoice: vi.fn(async () => invoice) } },
 * });
 * expect(run.status).toBe("COMPLETED");
 * ```
 */
export function createTestEngine(options: TestEngineOptions = {}): TestEngine {
  const store = createMemoryStepStore();
  const jobs = new Map<string, JobState>();
  const random = options.random ?? (() => 0.5);
  const retryMaxDelayMs = options.retryMaxDelayMs ?? 15 * 60_000;
  const callbackBaseUrl = (options.callbackBaseUrl ?? "https://zixly.test").replace(/\/+$/, "");
  const maxWakeUps = options.maxWakeUps ?? 10_000;
  let clock = options.now === undefined ? DEFAULT_START : new Date(options.now).getTime();
  let jobSeq = 0;

  function jobOf(jobId: string): JobState {
    const job = jobs.get(jobId);
    if (!job) throw new Error(`the test engine has no job "${jobId}"`);
    return job;
  }

  function issuedCallback(jobId: string, step: string): { url: string; token: string } | undefined {
    for (const [token, cb] of store.callbacks) {
      if (cb.jobId === jobId && cb.name === step && !cb.used) {
        return { url: `${callbackBaseUrl}/callbacks/${token}`, token };
      }
    }
    return undefined;
  }

  function deliverCallback(token: string, body?: unknown): CallbackDelivery {
    const cb = store.callbacks.get(token);
    if (!cb) return "unknown";
    if (cb.expiresAt.getTime() <= clock) return "expired";
    // As the callback route: only a step that still waits can be completed.
    if (cb.used || store.steps.get(cb.jobId)?.get(cb.name)?.status !== "WAITING") return "used";
    const outcome = store.deliverCallback(token, body ?? null);
    const job = jobs.get(cb.jobId);
    // The route re-queues a parked job at once.
    if (outcome === "ok" && job?.phase === "WAITING") job.dueAt = clock;
    return outcome;
  }

  function snapshot<TResult>(job: JobState): TestRunResult<TResult> {
    const steps = [...(store.steps.get(job.jobId)?.values() ?? [])].map(
      ({ name, status, output, attempt, error }): TestStep => ({
        name,
        status,
        attempt,
        output,
        ...(error ? { error } : {}),
      }),
    );
    return {
      jobId: job.jobId,
      status: job.phase as TestRunStatus,
      result: job.phase === "COMPLETED" ? (job.result as Jsonified<TResult>) : undefined,
      error: job.error,
      attempts: job.attempts,
      steps,
      relatedRecords: (store.related.get(job.jobId) ?? []).map((r) => ({ ...r })),
      elapsedMs: clock - job.startedAt,
      delays: [...job.delays],
      waits: job.waits.map((w) => ({ ...w })),
      waitingFor: job.phase === "WAITING" ? job.suspended?.waitingFor : undefined,
      logs: [...job.logs],
    };
  }

  function loggerFor(job: JobState): WorkflowLogger {
    const write = (level: TestLogEntry["level"]) => (fields: object, msg?: string) => {
      job.logs.push({ level, msg, fields });
    };
    return { info: write("info"), warn: write("warn"), error: write("error") };
  }

  /** The worker's loop for one job: claim, run one attempt, then park, retry or settle. */
  async function drive<TResult>(job: JobState): Promise<TestRunResult<TResult>> {
    const log = loggerFor(job);
    for (let wakeUps = 0; ; wakeUps++) {
      if (job.phase === "CANCELLED") return snapshot(job);
      if (wakeUps > maxWakeUps) {
        throw new Error(
          `job "${job.jobId}" woke up more than ${maxWakeUps} times; raise maxWakeUps if that is intended`,
        );
      }
      clock = Math.max(clock, job.dueAt);
      if (job.phase === "WAITING" && job.suspended) {
        const { waitingFor, at } = job.suspended;
        job.waits.push({ step: waitingFor.step, reason: waitingFor.reason, ms: clock - at });
      } else {
        // Resuming a parked job is not a new attempt; anything else is (as the worker's claim).
        job.attempts += 1;
      }
      job.suspended = undefined;
      job.phase = "RUNNING";
      try {
        const value = await runWorkflow({
          definition: job.definition,
          job: { id: job.jobId, tenantId: job.tenantId, attempt: job.attempts },
          event: job.event,
          store,
          connectors: job.connectors,
          log,
          callbackBaseUrl,
          now: () => clock,
        });
        job.phase = "COMPLETED";
        job.result = JSON.parse(JSON.stringify(value ?? null));
        job.error = undefined;
        return snapshot(job);
      } catch (err) {
        if (isWorkflowSuspended(err)) {
          const callback = err.reason === "callback" ? issuedCallback(job.jobId, err.stepName) : undefined;
          job.phase = "WAITING";
          job.dueAt = clock + err.resumeInMs;
          job.suspended = {
            at: clock,
            waitingFor: {
              step: err.stepName,
              reason: err.reason,
              wakeAt: new Date(job.dueAt).toISOString(),
              resumeInMs: err.resumeInMs,
              ...(callback ? { callback } : {}),
            },
          };
          if (err.reason !== "callback") continue;
          if (callback && Object.hasOwn(job.callbacks, err.stepName)) {
            const reply = job.callbacks[err.stepName];
            const body =
              typeof reply === "function"
                ? await (reply as (cb: { url: string; token: string }) => unknown)(callback)
                : reply;
            deliverCallback(callback.token, body);
            continue;
          }
          return snapshot(job);
        }
        if (isJobCancelled(err)) {
          job.phase = "CANCELLED";
          return snapshot(job);
        }
        const error = serializeError(err);
        const decision = decideRetry({
          error: err,
          attempt: job.attempts,
          maxAttempts: job.maxAttempts,
          backoff: job.definition.retries.backoff,
          maxDelayMs: retryMaxDelayMs,
          random,
        });
        if (!decision.retry) {
          job.phase = "FAILED";
          job.error = error;
          log.error({ err: error, attempts: job.attempts }, "job failed");
          return snapshot(job);
        }
        log.warn({ err: error, delayMs: decision.delayMs }, "job attempt failed; will retry");
        job.delays.push(decision.delayMs);
        job.phase = "QUEUED";
        job.dueAt = clock + decision.delayMs;
      }
    }
  }

  return {
    store,
    now: () => clock,
    deliverCallback,
    inspect: <TResult = unknown>(jobId: string) => snapshot<TResult>(jobOf(jobId)),

    async run<TSchema extends z.ZodType, TResult, TConnectors>(
      workflow: WorkflowDefinition<TSchema, TResult, TConnectors>,
      runOptions: TestRunOptions<TSchema, TConnectors>,
    ): Promise<TestRunResult<TResult>> {
      const jobId = runOptions.jobId ?? `job-${++jobSeq}`;
      if (jobs.has(jobId)) throw new Error(`the test engine already ran a job "${jobId}"`);
      let definition = workflow as unknown as WorkflowDefinition<z.ZodType, unknown, unknown>;
      let event: WorkflowEvent;
      if (runOptions.event) {
        event = runOptions.event;
        if (
          (runOptions.checkTrigger ?? true) &&
          createWorkflowRegistry([definition as AnyWorkflow]).match(event).length === 0
        ) {
          const { source, event: type } = definition.trigger;
          throw new Error(
            `event ${event.source}/${event.type} does not trigger workflow "${definition.id}" ` +
              `(trigger ${source}/${type}${definition.trigger.filter ? " with a filter" : ""}); ` +
              "pass checkTrigger: false to run it anyway",
          );
        }
      } else {
        const input = runOptions.input;
        definition = { ...definition, toInput: () => input };
        event = { source: definition.trigger.source, type: definition.trigger.event, id: jobId, data: input };
      }
      const maxAttempts = runOptions.maxAttempts ?? definition.retries.attempts;
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new Error(`maxAttempts must be a positive integer, not ${maxAttempts}`);
      }
      const job: JobState = {
        jobId,
        tenantId: runOptions.tenantId ?? "test-tenant",
        definition,
        event,
        connectors: guardConnectors(runOptions.connectors),
        callbacks: runOptions.callbacks ?? {},
        maxAttempts,
        attempts: 0,
        phase: "QUEUED",
        dueAt: clock,
        startedAt: clock,
        suspended: undefined,
        result: undefined,
        error: undefined,
        delays: [],
        waits: [],
        logs: [],
      };
      jobs.set(jobId, job);
      return drive<TResult>(job);
    },

    async resume<TResult = unknown>(jobId: string, resumeOptions: { callback?: unknown } = {}) {
      const job = jobOf(jobId);
      if (job.phase !== "WAITING") {
        throw new Error(`job "${jobId}" is ${job.phase}; only a WAITING run can be resumed`);
      }
      if ("callback" in resumeOptions) {
        const callback = job.suspended?.waitingFor.callback;
        if (!callback) throw new Error(`job "${jobId}" is not waiting for a callback`);
        const outcome = deliverCallback(callback.token, resumeOptions.callback);
        if (outcome !== "ok") throw new Error(`callback for job "${jobId}" was refused: ${outcome}`);
      }
      return drive<TResult>(job);
    },

    cancel(jobId: string) {
      const job = jobOf(jobId);
      store.cancelled.add(jobId);
      if (job.phase === "WAITING" || job.phase === "QUEUED") job.phase = "CANCELLED";
    },

    async replay<TResult = unknown>(jobId: string, replayOptions: { fromScratch?: boolean } = {}) {
      const job = jobOf(jobId);
      if (job.phase !== "FAILED") {
        throw new Error(`only FAILED jobs can be replayed; job "${jobId}" is ${job.phase}`);
      }
      const steps = store.steps.get(jobId);
      if (replayOptions.fromScratch) {
        steps?.clear();
        store.related.delete(jobId);
        for (const [token, cb] of store.callbacks) if (cb.jobId === jobId) store.callbacks.delete(token);
      } else {
        for (const [name, step] of steps ?? []) if (step.status !== "COMPLETED") steps?.delete(name);
      }
      store.cancelled.delete(jobId);
      Object.assign(job, { phase: "QUEUED", attempts: 0, error: undefined, result: undefined, dueAt: clock });
      return drive<TResult>(job);
    },
  };
}

/**
 * Runs one workflow on a fresh {@link createTestEngine} — the short form for a test that needs
 * no resume, cancel or replay.
 *
 * @example
 * ```ts
 * const run = await testWorkflow(sleeper, { input: { minutes: 60 }, connectors });
 * expect(run).toMatchObject({ status: "COMPLETED", elapsedMs: 3_600_000 });
 * ```
 */
export function testWorkflow<TSchema extends z.ZodType, TResult, TConnectors>(
  workflow: WorkflowDefinition<TSchema, TResult, TConnectors>,
  options: TestRunOptions<TSchema, TConnectors> & TestEngineOptions,
): Promise<TestRunResult<TResult>> {
  return createTestEngine(options).run(workflow, options);
}
