import type { QueueMessage } from "@zixly/queue";
import type { AnyWorkflow } from "./registry.js";

/** The queue every workflow job travels on. */
export const JOBS_QUEUE = "jobs";

/** A queue message carries ids only — never the payload, which stays in Postgres. */
export interface JobMessageBody {
  jobId: string;
  tenantId: string;
  workflow: string;
}

/** The queue message for a job row, with the workflow's retry policy. */
export function jobMessage(
  job: { id: string; tenantId: string; workflow: string },
  workflow: AnyWorkflow | undefined,
): QueueMessage<JobMessageBody> {
  const message: QueueMessage<JobMessageBody> = {
    id: job.id,
    body: { jobId: job.id, tenantId: job.tenantId, workflow: job.workflow },
  };
  if (workflow) {
    message.attempts = workflow.retries.attempts;
    message.backoff = workflow.retries.backoff;
  }
  return message;
}
