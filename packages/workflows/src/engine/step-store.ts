import type { SerializedError } from "@zixly/core";
import type { RelatedRecordInput } from "../define-workflow.js";

/** A step's memo as the store keeps it. */
export interface StoredStep {
  name: string;
  status: "RUNNING" | "WAITING" | "COMPLETED" | "FAILED";
  output: unknown;
  attempt: number;
}

/**
 * Where step memos live. The worker's implementation is Postgres (`job_steps`); tests use
 * {@link createMemoryStepStore}. Writes must be durable before they resolve: a memo that is
 * not stored is a side effect that will run again.
 */
export interface StepStore {
  loadSteps(jobId: string): Promise<StoredStep[]>;
  stepStarted(jobId: string, name: string, attempt: number): Promise<void>;
  stepCompleted(jobId: string, name: string, attempt: number, output: unknown): Promise<void>;
  stepFailed(jobId: string, name: string, attempt: number, error: SerializedError): Promise<void>;
  /** Records a WAITING step with its wait state (when it wakes, what it waits for). */
  stepWaiting(jobId: string, name: string, attempt: number, state: WaitState): Promise<void>;
  /**
   * Marks a waiting callback step as notified — unless the callback already completed it, in
   * which case this returns the callback's body (`{ completed: true, output }`).
   */
  callbackNotified(
    jobId: string,
    name: string,
    state: WaitState,
  ): Promise<{ completed: boolean; output?: unknown }>;
  /** A fresh one-time callback token for a step (replacing any earlier one of that step). */
  createCallbackToken(jobId: string, tenantId: string, name: string, expiresAt: Date): Promise<string>;
  /** True once a cancel of the running job was requested. */
  isCancelRequested(jobId: string): Promise<boolean>;
  relate(jobId: string, tenantId: string, record: RelatedRecordInput): Promise<void>;
}

/** What a WAITING step waits for, stored as its output until it completes. */
export type WaitState =
  | { kind: "sleep"; wakeAt: string }
  | { kind: "callback"; expiresAt: string; notified: boolean }
  | { kind: "poll"; checks: number; nextAt: string };

/** An in-memory {@link StepStore} for tests and in-process runs. */
export function createMemoryStepStore(): StepStore & {
  steps: Map<string, Map<string, StoredStep & { error?: SerializedError }>>;
  related: Map<string, RelatedRecordInput[]>;
  /** Callback tokens issued, by token: which job and step they complete. */
  callbacks: Map<string, { jobId: string; name: string; expiresAt: Date; used: boolean }>;
  cancelled: Set<string>;
  /** Completes a waiting callback step as `POST /callbacks/:token` would. */
  deliverCallback(token: string, body: unknown): "ok" | "unknown" | "used";
} {
  const steps = new Map<string, Map<string, StoredStep & { error?: SerializedError }>>();
  const related = new Map<string, RelatedRecordInput[]>();
  const callbacks = new Map<string, { jobId: string; name: string; expiresAt: Date; used: boolean }>();
  const cancelled = new Set<string>();
  let tokenSeq = 0;
  const jobSteps = (jobId: string) => {
    const existing = steps.get(jobId);
    if (existing) return existing;
    const created = new Map<string, StoredStep & { error?: SerializedError }>();
    steps.set(jobId, created);
    return created;
  };
  return {
    steps,
    related,
    callbacks,
    cancelled,
    deliverCallback(token, body) {
      const cb = callbacks.get(token);
      if (!cb) return "unknown";
      if (cb.used) return "used";
      cb.used = true;
      const step = jobSteps(cb.jobId).get(cb.name);
      jobSteps(cb.jobId).set(cb.name, {
        name: cb.name,
        status: "COMPLETED",
        output: body ?? null,
        attempt: step?.attempt ?? 1,
      });
      return "ok";
    },
    async stepWaiting(jobId, name, attempt, state) {
      jobSteps(jobId).set(name, { name, status: "WAITING", output: state, attempt });
    },
    async callbackNotified(jobId, name, state) {
      const step = jobSteps(jobId).get(name);
      if (step?.status === "COMPLETED") return { completed: true, output: step.output };
      jobSteps(jobId).set(name, { name, status: "WAITING", output: state, attempt: step?.attempt ?? 1 });
      return { completed: false };
    },
    async createCallbackToken(jobId, _tenantId, name, expiresAt) {
      for (const [t, cb] of callbacks) if (cb.jobId === jobId && cb.name === name) callbacks.delete(t);
      const token = `memory-token-${++tokenSeq}`;
      callbacks.set(token, { jobId, name, expiresAt, used: false });
      return token;
    },
    async isCancelRequested(jobId) {
      return cancelled.has(jobId);
    },
    async loadSteps(jobId) {
      return [...jobSteps(jobId).values()].map(({ name, status, output, attempt }) => ({
        name,
        status,
        output,
        attempt,
      }));
    },
    async stepStarted(jobId, name, attempt) {
      jobSteps(jobId).set(name, { name, status: "RUNNING", output: null, attempt });
    },
    async stepCompleted(jobId, name, attempt, output) {
      jobSteps(jobId).set(name, { name, status: "COMPLETED", output, attempt });
    },
    async stepFailed(jobId, name, attempt, error) {
      jobSteps(jobId).set(name, { name, status: "FAILED", output: null, attempt, error });
    },
    async relate(jobId, _tenantId, record) {
      const list = related.get(jobId) ?? [];
      const same = (r: RelatedRecordInput) =>
        r.system === record.system &&
        r.recordType === record.recordType &&
        r.recordId === record.recordId &&
        r.action === record.action;
      if (!list.some(same)) list.push({ ...record });
      related.set(jobId, list);
    },
  };
}
