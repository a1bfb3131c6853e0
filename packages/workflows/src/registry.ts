import type { z } from "zod";
import type { WorkflowConnectors, WorkflowDefinition, WorkflowEvent } from "./define-workflow.js";

/** A workflow of any input and result type, as the engine and the router see it. */
export type AnyWorkflow = WorkflowDefinition<z.ZodType, unknown, WorkflowConnectors>;

/** Looks workflows up by id and routes events to the workflows whose trigger matches. */
export interface WorkflowRegistry {
  readonly all: readonly AnyWorkflow[];
  get(id: string): AnyWorkflow | undefined;
  /** Workflows triggered by `event`, in catalogue order. */
  match(event: WorkflowEvent): AnyWorkflow[];
}

export function createWorkflowRegistry(workflows: readonly AnyWorkflow[]): WorkflowRegistry {
  const byId = new Map<string, AnyWorkflow>();
  for (const wf of workflows) {
    if (byId.has(wf.id)) throw new Error(`two workflows share the id "${wf.id}"`);
    byId.set(wf.id, wf);
  }
  return {
    all: workflows,
    get: (id) => byId.get(id),
    match: (event) =>
      workflows.filter(
        (wf) =>
          wf.trigger.source === event.source &&
          (wf.trigger.event === "*" || wf.trigger.event === event.type) &&
          (wf.trigger.filter?.(event) ?? true),
      ),
  };
}
