import { z } from "zod";
import { defineWorkflow, type WorkflowEvent } from "../define-workflow.js";
import { hubspotAsanaDealProperties } from "./hubspot-deal-won-to-asana-project.js";

/** How many of a task's projects are looked up in HubSpot for a linked deal. */
const MAX_PROJECTS_CHECKED = 5;
/** How many of the deal's contacts the note is also filed on. */
const MAX_NOTE_CONTACTS = 10;

/** Asana's `task.changed` event for the `completed` field (completing or reopening a task). */
export function isCompletionChange(event: WorkflowEvent): boolean {
  const data = event.data as { change?: { field?: unknown }; resource?: { resource_type?: unknown } };
  return data.change?.field === "completed" && data.resource?.resource_type === "task";
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Asana task completed → HubSpot note. When a task's `completed` field changes, reads the task
 * (the event does not say whether it was completed or reopened); when it is completed, finds
 * the HubSpot deal linked to one of the task's projects — the deal whose `asana_project_gid` is
 * the project, as `hubspot-deal-won-to-asana-project` writes it — files a note on the deal and
 * its contacts, and comments on the task that it did. See
 * `docs/workflows/asana-task-completed-to-hubspot-note.md`.
 */
export const asanaTaskCompletedToHubspotNote = defineWorkflow({
  id: "asana-task-completed-to-hubspot-note",
  trigger: { source: "asana", event: "task.changed", filter: isCompletionChange },
  toInput: (event) => {
    const data = event.data as { resource?: { gid?: unknown } };
    return { taskGid: data.resource?.gid };
  },
  input: z.object({ taskGid: z.string().min(1) }),
  retries: { attempts: 5, backoff: { type: "exponential", delayMs: 2_000 } },
  async run({ input, step, connectors, relate }) {
    const task = await step.run("fetch-task", () => connectors.asana.getTask(input.taskGid));
    await relate({ system: "asana", recordType: "task", recordId: task.gid, action: "read" });
    if (!task.completed) return { skipped: "task is not completed", taskGid: task.gid };
    if (task.projects.length === 0) return { skipped: "task is in no project", taskGid: task.gid };

    const deal = await step.run("find-deal", async () => {
      for (const project of task.projects.slice(0, MAX_PROJECTS_CHECKED)) {
        const found = await connectors.hubspot.findDealByProperty(
          hubspotAsanaDealProperties.projectGid,
          project.gid,
        );
        if (!found) continue;
        const full = await connectors.hubspot.getDeal(found.id);
        return {
          id: full.id,
          name: full.properties.dealname ?? null,
          contactIds: full.contactIds,
          project: { gid: project.gid, name: project.name },
        };
      }
      return null;
    });
    if (!deal) {
      return { skipped: "the task's projects are not linked to a HubSpot deal", taskGid: task.gid };
    }
    await relate({ system: "hubspot", recordType: "deal", recordId: deal.id, action: "read" });

    const note = await step.run("add-note", () =>
      connectors.hubspot.addNote({
        body: noteBody(task, deal.project.name),
        ...(task.completedAt ? { timestamp: task.completedAt } : {}),
        dealIds: [deal.id],
        contactIds: deal.contactIds.slice(0, MAX_NOTE_CONTACTS),
      }),
    );
    await relate({ system: "hubspot", recordType: "note", recordId: note.id, action: "created" });

    const comment = await step.run("comment-on-task", () =>
      connectors.asana.addComment(
        task.gid,
        `Noted on HubSpot deal "${deal.name ?? deal.id}" (id ${deal.id}) by Zixly.`,
      ),
    );
    await relate({ system: "asana", recordType: "story", recordId: comment.gid, action: "created" });

    return { taskGid: task.gid, dealId: deal.id, noteId: note.id, commentGid: comment.gid };
  },
});

function noteBody(
  task: { name: string; completedAt: string | null; permalinkUrl: string | null },
  projectName: string | null,
): string {
  const link = task.permalinkUrl ? ` <a href="${escapeHtml(task.permalinkUrl)}">Open in Asana</a>` : "";
  return [
    `<p><strong>Onboarding task completed in Asana:</strong> ${escapeHtml(task.name)}</p>`,
    projectName ? `<p>Project: ${escapeHtml(projectName)}</p>` : "",
    `<p>Completed${task.completedAt ? ` at ${escapeHtml(task.completedAt)}` : ""}.${link}</p>`,
  ]
    .filter(Boolean)
    .join("");
}
