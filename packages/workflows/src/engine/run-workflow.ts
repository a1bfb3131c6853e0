import { isNonRetriableError, NonRetriableError, serializeError } from "@zixly/core";
import type { z } from "zod";
import type {
  JobInfo,
  Jsonified,
  StepApi,
  StepOptions,
  WorkflowDefinition,
  WorkflowEvent,
  WorkflowLogger,
} from "../define-workflow.js";
import { JobCancelled, WorkflowSuspended } from "./signals.js";
import type { StepStore, StoredStep, WaitState } from "./step-store.js";

export interface RunWorkflowOptions<TConnectors> {
  definition: WorkflowDefinition<z.ZodType, unknown, TConnectors>;
  job: JobInfo;
  event: WorkflowEvent;
  store: StepStore;
  connectors: TConnectors;
  log: WorkflowLogger;
  /** Base URL for callback URLs (`<base>/callbacks/<token>`); required by `step.waitForCallback`. */
  callbackBaseUrl?: string | undefined;
  /** Clock, for tests that run in virtual time. */
  now?: () => number;
}

/**
 * Runs one attempt of a workflow: validates its input, then calls `run` with a step API
 * backed by `store`, so steps finished by an earlier attempt return their memo.
 * Throws what the workflow throws; invalid input throws a {@link NonRetriableError}; a wait
 * throws {@link WorkflowSuspended}; a requested cancel throws {@link JobCancelled}.
 */
export async function runWorkflow<TConnectors>(options: RunWorkflowOptions<TConnectors>): Promise<unknown> {
  const { definition, job, event, store, log } = options;
  const now = options.now ?? Date.now;
  const parsed = definition.input.safeParse(definition.toInput(event));
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new NonRetriableError(`invalid input for workflow "${definition.id}": ${detail}`);
  }

  const memo = new Map((await store.loadSteps(job.id)).map((s) => [s.name, s]));
  const seen = new Set<string>();

  /** Every step starts here: unique names, memo lookup, cancellation at the boundary. */
  async function enter(name: string): Promise<StoredStep | undefined> {
    if (seen.has(name)) {
      throw new NonRetriableError(
        `workflow "${definition.id}" defines step "${name}" twice; step names must be unique`,
      );
    }
    seen.add(name);
    const stored = memo.get(name);
    if (stored?.status === "COMPLETED") return stored;
    if (await store.isCancelRequested(job.id)) throw new JobCancelled(name);
    return stored;
  }

  async function fail(name: string, err: unknown): Promise<never> {
    await store.stepFailed(job.id, name, job.attempt, serializeError(err));
    log.warn({ step: name, err: serializeError(err) }, "step failed");
    throw err;
  }

  async function suspend(
    name: string,
    state: WaitState,
    inMs: number,
    reason: WorkflowSuspended["reason"],
  ): Promise<never> {
    await store.stepWaiting(job.id, name, job.attempt, state);
    throw new WorkflowSuspended(Math.max(0, Math.round(inMs)), name, reason);
  }

  const step: StepApi = {
    async run<T>(name: string, fn: () => Promise<T> | T, stepOptions?: StepOptions) {
      const stored = await enter(name);
      if (stored?.status === "COMPLETED") return stored.output as Jsonified<T>;
      await store.stepStarted(job.id, name, job.attempt);
      const started = performance.now();
      let output: Jsonified<T>;
      try {
        output = toJson(
          await withRetries(
            () => withTimeout(Promise.resolve().then(fn), stepOptions?.timeoutMs, name),
            stepOptions?.retries,
          ),
        ) as Jsonified<T>;
      } catch (err) {
        return fail(name, err);
      }
      await store.stepCompleted(job.id, name, job.attempt, output);
      log.debug?.({ step: name, durationMs: Math.round(performance.now() - started) }, "step completed");
      return output;
    },

    async sleep(name, durationMs) {
      const stored = await enter(name);
      if (stored?.status === "COMPLETED") return;
      const state = stored?.status === "WAITING" ? (stored.output as WaitState) : undefined;
      const wakeAt = state?.kind === "sleep" ? Date.parse(state.wakeAt) : now() + durationMs;
      const remaining = wakeAt - now();
      if (remaining > 0)
        await suspend(name, { kind: "sleep", wakeAt: new Date(wakeAt).toISOString() }, remaining, "sleep");
      await store.stepCompleted(job.id, name, job.attempt, { sleptUntil: new Date(wakeAt).toISOString() });
    },

    async waitForCallback<T>(
      name: string,
      opts: {
        timeoutMs: number;
        notify?: (callback: { url: string; token: string }) => Promise<void> | void;
      },
    ): Promise<T> {
      const stored = await enter(name);
      if (stored?.status === "COMPLETED") return stored.output as T;
      const state = stored?.status === "WAITING" ? (stored.output as WaitState) : undefined;
      if (state?.kind === "callback" && state.notified) {
        const remaining = Date.parse(state.expiresAt) - now();
        if (remaining > 0) return suspend(name, state, remaining, "callback");
        return fail(
          name,
          new NonRetriableError(
            `step "${name}" timed out after ${opts.timeoutMs} ms waiting for its callback`,
          ),
        );
      }
      if (!options.callbackBaseUrl) {
        throw new NonRetriableError(
          `step "${name}" needs a callback URL: configure PUBLIC_BASE_URL for the worker`,
        );
      }
      // Record WAITING before handing out the URL, so a callback that arrives at once finds the step.
      const expiresAt = new Date(now() + opts.timeoutMs);
      const waiting: WaitState = { kind: "callback", expiresAt: expiresAt.toISOString(), notified: false };
      await store.stepWaiting(job.id, name, job.attempt, waiting);
      const token = await store.createCallbackToken(job.id, job.tenantId, name, expiresAt);
      const url = `${options.callbackBaseUrl.replace(/\/+$/, "")}/callbacks/${token}`;
      try {
        await opts.notify?.({ url, token });
      } catch (err) {
        return fail(name, err);
      }
      const outcome = await store.callbackNotified(job.id, name, { ...waiting, notified: true });
      if (outcome.completed) return outcome.output as T;
      throw new WorkflowSuspended(opts.timeoutMs, name, "callback");
    },

    async poll<T>(
      name: string,
      opts: { intervalMs: number; maxChecks: number; check: () => Promise<T | null | undefined> },
    ): Promise<Jsonified<T>> {
      const stored = await enter(name);
      if (stored?.status === "COMPLETED") return stored.output as Jsonified<T>;
      const state = stored?.status === "WAITING" ? (stored.output as WaitState) : undefined;
      const checks = state?.kind === "poll" ? state.checks : 0;
      if (state?.kind === "poll") {
        const remaining = Date.parse(state.nextAt) - now();
        if (remaining > 0) return suspend(name, state, remaining, "poll");
      }
      let value: T | null | undefined;
      try {
        value = await opts.check();
      } catch (err) {
        return fail(name, err);
      }
      if (value !== null && value !== undefined) {
        const output = toJson(value) as Jsonified<T>;
        await store.stepCompleted(job.id, name, job.attempt, output);
        return output;
      }
      if (checks + 1 >= opts.maxChecks) {
        return fail(name, new NonRetriableError(`step "${name}" gave up after ${checks + 1} checks`));
      }
      const nextAt = new Date(now() + opts.intervalMs).toISOString();
      return suspend(name, { kind: "poll", checks: checks + 1, nextAt }, opts.intervalMs, "poll");
    },
  };

  return definition.run({
    input: parsed.data,
    step,
    connectors: options.connectors,
    log,
    job,
    relate: (record) => store.relate(job.id, job.tenantId, record),
  });
}

/** Normalises a step result through JSON, so the first run sees exactly what a replay would. */
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value));
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number | undefined, name: string): Promise<T> {
  if (!timeoutMs) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step "${name}" timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function withRetries<T>(attempt: () => Promise<T>, retries: StepOptions["retries"]): Promise<T> {
  const total = Math.max(1, retries?.attempts ?? 1);
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (n >= total || isNonRetriableError(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, (retries?.delayMs ?? 0) * 2 ** (n - 1)));
    }
  }
}
