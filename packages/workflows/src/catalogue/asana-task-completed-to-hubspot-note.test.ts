import type { AsanaTask, HubspotDeal } from "@zixly/connectors";
import { describe, expect, it, vi } from "vitest";
import { loadEventFixture, testWorkflow } from "../testing/index.js";
import { asanaTaskCompletedToHubspotNote } from "./asana-task-completed-to-hubspot-note.js";

const event = loadEventFixture(
  new URL("./asana-task-completed-to-hubspot-note.fixture.json", import.meta.url),
);
const TASK_GID = "1200000000001234";

function task(overrides: Partial<AsanaTask> = {}): AsanaTask {
  return {
    gid: TASK_GID,
    name: "Kick-off call <with CFO>",
    notes: null,
    completed: true,
    completedAt: "2026-11-24T14:05:11.000Z",
    dueOn: "2026-11-22",
    permalinkUrl: `https://app.asana.com/0/p-2/${TASK_GID}`,
    projects: [
      { gid: "p-1", name: "Internal" },
      { gid: "p-2", name: "Onboarding: Acme" },
    ],
    ...overrides,
  };
}

const linked: HubspotDeal = { id: "d-1", properties: { dealname: "Acme renewal", asana_project_gid: "p-2" } };

function fakes(t: AsanaTask = task(), deal: HubspotDeal | null = linked) {
  return {
    asana: {
      getTask: vi.fn(async (_gid: string) => t),
      addComment: vi.fn(async (_gid: string, text: string) => ({ gid: "s-1", text, createdAt: null })),
    },
    hubspot: {
      findDealByProperty: vi.fn(async (_name: string, value: string) =>
        deal && deal.properties.asana_project_gid === value ? deal : null,
      ),
      getDeal: vi.fn(async (id: string) => ({
        id,
        properties: { dealname: "Acme renewal" },
        contactIds: ["c-1", "c-2"],
      })),
      addNote: vi.fn(async (note: { body: string; timestamp?: string }) => ({
        id: "n-1",
        body: note.body,
        timestamp: note.timestamp ?? "",
      })),
    },
  };
}

describe("asana-task-completed-to-hubspot-note", () => {
  it("files a note on the deal linked to the task's project (and its contacts), then comments on the task", async () => {
    const connectors = fakes();
    const run = await testWorkflow(asanaTaskCompletedToHubspotNote, { event, connectors });
    expect(run).toMatchObject({
      status: "COMPLETED",
      result: { taskGid: TASK_GID, dealId: "d-1", noteId: "n-1", commentGid: "s-1" },
    });
    expect(connectors.asana.getTask).toHaveBeenCalledWith(TASK_GID);
    expect(connectors.hubspot.findDealByProperty.mock.calls).toEqual([
      ["asana_project_gid", "p-1"],
      ["asana_project_gid", "p-2"],
    ]);
    const note = connectors.hubspot.addNote.mock.calls[0]?.[0] as {
      body: string;
      timestamp: string;
      dealIds: string[];
      contactIds: string[];
    };
    expect(note).toMatchObject({
      timestamp: "2026-11-24T14:05:11.000Z",
      dealIds: ["d-1"],
      contactIds: ["c-1", "c-2"],
    });
    expect(note.body).toContain("Kick-off call &#60;with CFO&#62;");
    expect(note.body).toContain("Onboarding: Acme");
    expect(connectors.asana.addComment).toHaveBeenCalledWith(
      TASK_GID,
      'Noted on HubSpot deal "Acme renewal" (id d-1) by Zixly.',
    );
    expect(run.relatedRecords).toEqual([
      { system: "asana", recordType: "task", recordId: TASK_GID, action: "read" },
      { system: "hubspot", recordType: "deal", recordId: "d-1", action: "read" },
      { system: "hubspot", recordType: "note", recordId: "n-1", action: "created" },
      { system: "asana", recordType: "story", recordId: "s-1", action: "created" },
    ]);
  });

  it("skips a reopened task, and a task whose projects no deal links to, without writing", async () => {
    for (const connectors of [fakes(task({ completed: false, completedAt: null })), fakes(task(), null)]) {
      const run = await testWorkflow(asanaTaskCompletedToHubspotNote, { event, connectors });
      expect(run).toMatchObject({ status: "COMPLETED", result: { skipped: expect.any(String) } });
      expect(connectors.hubspot.addNote).not.toHaveBeenCalled();
      expect(connectors.asana.addComment).not.toHaveBeenCalled();
    }
  });

  it("does not add the note twice when the comment fails and the job retries", async () => {
    const connectors = fakes();
    connectors.asana.addComment.mockRejectedValueOnce(new Error("asana addComment failed: 503"));
    const run = await testWorkflow(asanaTaskCompletedToHubspotNote, { event, connectors });
    expect(run).toMatchObject({ status: "COMPLETED", attempts: 2 });
    expect(connectors.hubspot.addNote).toHaveBeenCalledTimes(1);
    expect(connectors.asana.addComment).toHaveBeenCalledTimes(2);
  });

  it("is triggered only by changes to a task's completed field", async () => {
    const data = event.data as Record<string, unknown>;
    for (const other of [
      { ...data, change: { field: "name", action: "changed" } },
      { ...data, resource: { gid: "1", resource_type: "project" } },
    ]) {
      await expect(
        testWorkflow(asanaTaskCompletedToHubspotNote, {
          event: { ...event, data: other },
          connectors: fakes(),
        }),
      ).rejects.toThrow(/does not trigger/);
    }
  });
});
