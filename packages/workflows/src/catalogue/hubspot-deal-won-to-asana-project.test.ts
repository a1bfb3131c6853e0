import type { AsanaJob, AsanaProject, AsanaProjectTemplate, AsanaTask, HubspotDeal } from "@zixly/connectors";
import { describe, expect, it, vi } from "vitest";
import { loadEventFixture, testWorkflow } from "../testing/index.js";
import { hubspotDealWonToAsanaProject, onboardingTasks } from "./hubspot-deal-won-to-asana-project.js";

const event = loadEventFixture(new URL("./hubspot-deal-won-to-asana-project.fixture.json", import.meta.url));
const DEAL_ID = "1246965";
const NAME = `Onboarding: Acme renewal (HubSpot deal ${DEAL_ID})`;

function deal(properties: Record<string, string | null> = {}): HubspotDeal & { contactIds: string[] } {
  return {
    id: DEAL_ID,
    properties: {
      dealname: "Acme renewal",
      dealstage: "closedwon",
      amount: "12000",
      closedate: "2026-11-20T10:00:00.000Z",
      asana_project_gid: null,
      asana_template_gid: null,
      asana_team_gid: "team-1",
      ...properties,
    },
    contactIds: ["c-1"],
  };
}

const project: AsanaProject = {
  gid: "p-1",
  name: NAME,
  notes: null,
  permalinkUrl: "https://app.asana.com/0/p-1/p-1",
  teamGid: "team-1",
  workspaceGid: "w-1",
};

function task(name: string, n: number): AsanaTask {
  return {
    gid: `t-${n}`,
    name,
    notes: null,
    completed: false,
    completedAt: null,
    dueOn: null,
    permalinkUrl: null,
    projects: [{ gid: "p-1", name: NAME }],
  };
}

function fakes(d = deal()) {
  let n = 0;
  const template: AsanaProjectTemplate = {
    gid: "tpl-1",
    name: "Client onboarding",
    teamGid: "team-tpl",
    requestedDates: [{ gid: "date-1", name: "Start" }],
    requestedRoles: [],
  };
  const job = (status: AsanaJob["status"]): AsanaJob => ({
    gid: "job-1",
    status,
    newProject: { gid: "p-9", name: NAME },
  });
  return {
    hubspot: {
      getDeal: vi.fn(async (_id: string, _o?: { properties?: string[] }) => d),
      updateDeal: vi.fn(async (id: string, properties: Record<string, string>) => ({ id, properties })),
    },
    asana: {
      findProjectByName: vi.fn(async (_name: string): Promise<AsanaProject | null> => null),
      createProject: vi.fn(async (_p: { name: string; notes?: string; team?: string }) => project),
      createTask: vi.fn(async (t: { name: string; projects: string[]; dueOn?: string }) => task(t.name, ++n)),
      getProjectTemplate: vi.fn(async (_gid: string) => template),
      createProjectFromTemplate: vi.fn(async (_gid: string, _i: unknown) => job("in_progress")),
      getJob: vi.fn(async (_gid: string) => job("in_progress")),
    },
    job,
  };
}

describe("hubspot-deal-won-to-asana-project", () => {
  it("creates the onboarding project with the fixed tasks and links it back on the deal", async () => {
    const { job: _, ...connectors } = fakes();
    const run = await testWorkflow(hubspotDealWonToAsanaProject, { event, connectors });
    expect(run).toMatchObject({
      status: "COMPLETED",
      result: {
        dealId: DEAL_ID,
        projectGid: "p-1",
        projectUrl: "https://app.asana.com/0/p-1/p-1",
        fromTemplate: null,
        taskGids: ["t-1", "t-2", "t-3", "t-4", "t-5"],
      },
    });
    expect(connectors.hubspot.getDeal).toHaveBeenCalledWith(DEAL_ID, {
      properties: ["asana_project_gid", "asana_project_url", "asana_template_gid", "asana_team_gid"],
    });
    expect(connectors.asana.findProjectByName).toHaveBeenCalledWith(NAME);
    expect(connectors.asana.createProject).toHaveBeenCalledWith({
      name: NAME,
      notes: expect.stringContaining("Acme renewal"),
      team: "team-1",
    });
    expect(connectors.asana.createTask.mock.calls.map((c) => [c[0].name, c[0].dueOn])).toEqual(
      onboardingTasks.map((t) => [t.name, expect.stringMatching(/^2026-1[12]-\d\d$/)]),
    );
    expect(connectors.asana.createTask.mock.calls[0]?.[0]).toMatchObject({
      projects: ["p-1"],
      dueOn: "2026-11-22",
    });
    expect(connectors.hubspot.updateDeal).toHaveBeenCalledWith(DEAL_ID, {
      asana_project_gid: "p-1",
      asana_project_url: "https://app.asana.com/0/p-1/p-1",
    });
    expect(run.relatedRecords.map((r) => `${r.system}:${r.recordType}:${r.action}`)).toEqual([
      "hubspot:deal:read",
      ...onboardingTasks.map(() => "asana:task:created"),
      "asana:project:created",
      "hubspot:deal:updated",
    ]);
  });

  it("instantiates the deal's template, polls the Asana job, then links the new project", async () => {
    const { job, ...connectors } = fakes(deal({ asana_template_gid: "tpl-1", asana_team_gid: null }));
    connectors.asana.getJob.mockResolvedValueOnce(job("in_progress")).mockResolvedValueOnce(job("succeeded"));
    const run = await testWorkflow(hubspotDealWonToAsanaProject, { event, connectors });
    expect(run).toMatchObject({
      status: "COMPLETED",
      attempts: 1,
      result: { projectGid: "p-9", projectUrl: "https://app.asana.com/0/p-9/list", fromTemplate: "tpl-1" },
    });
    expect(connectors.asana.createProjectFromTemplate).toHaveBeenCalledWith("tpl-1", {
      name: NAME,
      team: "team-tpl",
      requestedDates: [{ gid: "date-1", value: "2026-11-20" }],
    });
    expect(connectors.asana.getJob).toHaveBeenCalledTimes(2);
    expect(run.waits).toEqual([{ step: "wait-for-project", reason: "poll", ms: 2_000 }]);
    expect(connectors.asana.createProject).not.toHaveBeenCalled();
    expect(run.steps.map((s) => s.name)).toEqual([
      "fetch-deal",
      "read-template",
      "instantiate-template",
      "wait-for-project",
      "link-deal",
    ]);
  });

  it("fails without retry when Asana's job fails", async () => {
    const { job, ...connectors } = fakes(deal({ asana_template_gid: "tpl-1" }));
    connectors.asana.getJob.mockResolvedValue(job("failed"));
    const run = await testWorkflow(hubspotDealWonToAsanaProject, { event, connectors });
    expect(run).toMatchObject({ status: "FAILED", attempts: 1, error: { name: "NonRetriableError" } });
    expect(connectors.hubspot.updateDeal).not.toHaveBeenCalled();
  });

  it("reuses the project a failed attempt created instead of creating a second one", async () => {
    const { job: _, ...connectors } = fakes();
    connectors.asana.createProject.mockImplementationOnce(async () => {
      throw new Error("asana createProject failed: network error — no response within 30000 ms");
    });
    connectors.asana.findProjectByName.mockResolvedValueOnce(null).mockResolvedValueOnce(project);
    const run = await testWorkflow(hubspotDealWonToAsanaProject, { event, connectors });
    expect(run).toMatchObject({ status: "COMPLETED", attempts: 2, result: { projectGid: "p-1" } });
    expect(connectors.asana.createProject).toHaveBeenCalledTimes(1);
  });

  it("skips a deal that already has a project or is no longer won", async () => {
    for (const d of [deal({ asana_project_gid: "p-old" }), deal({ dealstage: "closedlost" })]) {
      const { job: _, ...connectors } = fakes(d);
      const run = await testWorkflow(hubspotDealWonToAsanaProject, { event, connectors });
      expect(run).toMatchObject({ status: "COMPLETED", result: { skipped: expect.any(String) } });
      expect(connectors.asana.createProject).not.toHaveBeenCalled();
      expect(connectors.hubspot.updateDeal).not.toHaveBeenCalled();
    }
  });

  it("is triggered only by dealstage changing to closedwon", async () => {
    const { job: _, ...connectors } = fakes();
    for (const data of [
      { ...(event.data as object), propertyValue: "appointmentscheduled" },
      { ...(event.data as object), propertyName: "amount" },
    ]) {
      await expect(
        testWorkflow(hubspotDealWonToAsanaProject, { event: { ...event, data }, connectors }),
      ).rejects.toThrow(/does not trigger/);
    }
  });
});
