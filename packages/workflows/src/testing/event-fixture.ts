import { readFileSync } from "node:fs";
import type { WorkflowEvent } from "../define-workflow.js";

/**
 * Reads a sample event (a `*.fixture.json` in the normalised {@link WorkflowEvent} shape the
 * receiver produces) and checks its shape, so a broken fixture fails with a clear message.
 *
 * @example
 * ```ts
 * const event = loadEventFixture(new URL("./my-workflow.fixture.json", import.meta.url));
 * ```
 */
export function loadEventFixture(file: URL | string): WorkflowEvent {
  const text = readFileSync(file, "utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`event fixture ${String(file)} is not valid JSON`, { cause: err });
  }
  const event = value as Partial<WorkflowEvent> | null;
  const problems: string[] = [];
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    problems.push("it must be an object");
  } else {
    for (const key of ["source", "type", "id"] as const) {
      if (typeof event[key] !== "string" || event[key] === "")
        problems.push(`"${key}" must be a non-empty string`);
    }
    if (!("data" in event)) problems.push(`"data" is missing`);
    if (typeof event.type === "string" && event.type !== event.type.toLowerCase()) {
      problems.push(`"type" must be lower-case, as the receiver normalises it`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`event fixture ${String(file)} is not a WorkflowEvent: ${problems.join("; ")}`);
  }
  return event as WorkflowEvent;
}
