/**
 * @module @zixly/workflows
 * The workflow SDK (`defineWorkflow`, durable steps), the engine that runs one attempt of a
 * workflow against a step store, and the catalogue of workflows Zixly ships.
 *
 * @example
 * ```ts
 * import { createWorkflowRegistry, workflows, runWorkflow } from "@zixly/workflows";
 * const registry = createWorkflowRegistry(workflows);
 * for (const wf of registry.match(event)) console.log(wf.id);
 * ```
 */

export { hubspotPaymentProperties, workflows, xeroInvoicePaidToHubspot } from "./catalogue/index.js";
export {
  defaultRetryPolicy,
  defineWorkflow,
  type JobInfo,
  type Jsonified,
  type RelatedRecordInput,
  type RetryPolicy,
  type RunContext,
  type StepApi,
  type StepOptions,
  type WorkflowConnectors,
  type WorkflowDefinition,
  type WorkflowEvent,
  type WorkflowLogger,
  type WorkflowOptions,
  type WorkflowTrigger,
} from "./define-workflow.js";
export { backoffDelayMs, decideRetry, type RetryDecision } from "./engine/retry-decision.js";
export { type RunWorkflowOptions, runWorkflow } from "./engine/run-workflow.js";
export { isJobCancelled, isWorkflowSuspended, JobCancelled, WorkflowSuspended } from "./engine/signals.js";
export type { WaitState } from "./engine/step-store.js";
export { createMemoryStepStore, type StepStore, type StoredStep } from "./engine/step-store.js";
export { JOBS_QUEUE, type JobMessageBody, jobMessage } from "./job-message.js";
export { loadWorkflowModules } from "./load-modules.js";
export { type AnyWorkflow, createWorkflowRegistry, type WorkflowRegistry } from "./registry.js";
