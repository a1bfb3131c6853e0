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
export { runWorkflow, type RunWorkflowOptions } from "./engine/run-workflow.js";
export { createMemoryStepStore, type StepStore, type StoredStep } from "./engine/step-store.js";
export { createWorkflowRegistry, type AnyWorkflow, type WorkflowRegistry } from "./registry.js";
export { hubspotPaymentProperties, workflows, xeroInvoicePaidToHubspot } from "./catalogue/index.js";
export { JOBS_QUEUE, jobMessage, type JobMessageBody } from "./job-message.js";
