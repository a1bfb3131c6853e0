import { NonRetriableError, serializeError } from "@zixly/core";
import type { z } from "zod";
import type {
  JobInfo,
  Jsonified,
  StepApi,
  WorkflowDefinition,
  WorkflowEvent,
  WorkflowLogger,
} from "../define-workflow.js";
import type { StepStore } from "./step-store.js";

export interface RunWorkflowOptions<TConnectors> {
  definition: WorkflowDefinition<z.ZodType, unknown, TConnectors>;
  job: JobInfo;
  event: WorkflowEvent;
  store: StepStore;
  connectors: TConnectors;
  log: WorkflowLogger;
}

/**
 * Runs one attempt of a workflow: validates its input, then calls `run` with a step API
 * backed by `store`, so steps finished by an earlier attempt return their memo.
 * Throws what the workflow throws; invalid input throws a {@link NonRetriableError}.
 */
export async function runWorkflow<TConnectors>(options: RunWorkflowOptions<TConnectors>): Promise<unknown> {
  const { definition, job, event, store, log } = options;
  const parsed = definition.input.safeParse(definition.toInput(event));
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new NonRetriableError(`invalid input for workflow "${definition.id}": ${detail}`);
  }

  const memo = new Map((await store.loadSteps(job.id)).map((s) => [s.name, s]));
  const seen = new Set<string>();

  const step: StepApi = {
    async run<T>(name: string, fn: () => Promise<T> | T, stepOptions?: { timeoutMs?: number }) {
      if (seen.has(name)) {
        throw new NonRetriableError(
          `workflow "${definition.id}" defines step "${name}" twice; step names must be unique`,
        );
      }
      seen.add(name);
      const done = memo.get(name);
      if (done?.status === "COMPLETED") return done.output as Jsonified<T>;

      await store.stepStarted(job.id, name, job.attempt);
      const started = performance.now();
      try {
        const value = await withTimeout(Promise.resolve().then(fn), stepOptions?.timeoutMs, name);
        const output = toJson(value) as Jsonified<T>;
        await store.stepCompleted(job.id, name, job.attempt, output);
        log.info({ step: name, durationMs: Math.round(performance.now() - started) }, "step completed");
        return output;
      } catch (err) {
        await store.stepFailed(job.id, name, job.attempt, serializeError(err));
        log.warn({ step: name, err: serializeError(err) }, "step failed");
        throw err;
      }
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
