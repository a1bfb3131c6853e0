import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { AnyWorkflow } from "./registry.js";

/**
 * Loads workflow modules named in configuration (`WORKFLOW_MODULES`, comma-separated paths or
 * package names). Each module exports `workflows` (an array) or `default` (an array or one
 * workflow). This is how a team adds its own workflows without forking the catalogue; the
 * receiver and the worker must load the same modules.
 */
export async function loadWorkflowModules(
  specifiers: string | undefined,
  cwd = process.cwd(),
): Promise<AnyWorkflow[]> {
  const list = (specifiers ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const loaded: AnyWorkflow[] = [];
  for (const spec of list) {
    // A file that exists (relative to the working directory) is a path; anything else a package name.
    const file = resolve(cwd, spec);
    const target = existsSync(file) ? pathToFileURL(file).href : spec;
    const mod = (await import(target)) as { workflows?: unknown; default?: unknown };
    const found = mod.workflows ?? mod.default;
    const items = Array.isArray(found) ? found : found ? [found] : [];
    if (items.length === 0)
      throw new Error(`workflow module "${spec}" exports no workflows (export const workflows = [...])`);
    for (const item of items) {
      const wf = item as Partial<AnyWorkflow>;
      if (typeof wf.id !== "string" || typeof wf.run !== "function" || !wf.trigger) {
        throw new Error(`workflow module "${spec}" exports something that is not a defineWorkflow() result`);
      }
      loaded.push(item as AnyWorkflow);
    }
  }
  return loaded;
}
