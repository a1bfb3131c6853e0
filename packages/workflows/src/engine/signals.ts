/**
 * Control-flow signals the engine throws out of a workflow's `run`. They are not failures:
 * the worker catches them by name and parks (WAITING) or cancels the job.
 */

/** The workflow is waiting (sleep, callback, poll): re-run the job in `resumeInMs`. */
export class WorkflowSuspended extends Error {
  override readonly name = "WorkflowSuspended";
  constructor(
    readonly resumeInMs: number,
    readonly stepName: string,
    readonly reason: "sleep" | "callback" | "poll",
  ) {
    super(`workflow waiting on step "${stepName}" (${reason}) for ${resumeInMs} ms`);
  }
}

/** Cancellation was requested while the job ran: it stopped at a step boundary. */
export class JobCancelled extends Error {
  override readonly name = "JobCancelled";
  constructor(readonly stepName: string) {
    super(`job cancelled before step "${stepName}"`);
  }
}

export const isWorkflowSuspended = (err: unknown): err is WorkflowSuspended =>
  err instanceof WorkflowSuspended || (err as { name?: unknown })?.name === "WorkflowSuspended";
export const isJobCancelled = (err: unknown): err is JobCancelled =>
  err instanceof JobCancelled || (err as { name?: unknown })?.name === "JobCancelled";
