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
  relate(jobId: string, tenantId: string, record: RelatedRecordInput): Promise<void>;
}

/** An in-memory {@link StepStore} for tests and in-process runs. */
export function createMemoryStepStore(): StepStore & {
  steps: Map<string, Map<string, StoredStep & { error?: SerializedError }>>;
  related: Map<string, RelatedRecordInput[]>;
} {
  const steps = new Map<string, Map<string, StoredStep & { error?: SerializedError }>>();
  const related = new Map<string, RelatedRecordInput[]>();
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
