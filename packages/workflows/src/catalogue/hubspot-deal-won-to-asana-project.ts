import { NonRetriableError } from "@zixly/core";
import { z } from "zod";
import { defineWorkflow, type WorkflowEvent } from "../define-workflow.js";

/**
 * HubSpot deal properties this workflow reads and writes (custom properties: Settings →
 * Properties → Deal). It writes `asana_project_gid` / `asana_project_url` (the link back, which
 * `asana-task-completed-to-hubspot-note` follows); it reads `asana_template_gid` (use this Asana
 * project template) and `asana_team_gid` (create the project in this team), both optional and
 * most conveniently given default values per pipeline in HubSpot.
 */
export const hubspotAsanaDealProperties = {
  projectGid: "asana_project_gid",
  projectUrl: "asana_project_url",
  templateGid: "asana_template_gid",
  teamGid: "asana_team_gid",
} as const;

/** The tasks of an onboarding project created without a template, due `dueInDays` after the win. */
export const onboardingTasks = [
  { key: "kickoff", name: "Kick-off call", dueInDays: 2, notes: "Introduce the team and agree the plan." },
  { key: "access", name: "Collect access and account details", dueInDays: 5, notes: "" },
  { key: "setup", name: "Set up the customer's workspace", dueInDays: 10, notes: "" },
  { key: "training", name: "Training session", dueInDays: 14, notes: "" },
  { key: "review", name: "Go-live review", dueInDays: 30, notes: "Confirm the customer is live and happy." },
] as const;

/** The stage id of "Closed won" in HubSpot's default sales pipeline. */
export const CLOSED_WON = "closedwon";

/** The deal stage changed to closed won (HubSpot's `deal.propertyChange` for `dealstage`). */
export function isDealWon(event: WorkflowEvent): boolean {
  const data = event.data as { propertyName?: unknown; propertyValue?: unknown };
  return data.propertyName === "dealstage" && data.propertyValue === CLOSED_WON;
}

/** `https://app.asana.com/0/<gid>/list`: Asana's link to a project, when the API gave none. */
function projectUrl(gid: string): string {
  return `https://app.asana.com/0/${gid}/list`;
}

function addDays(day: string, days: number): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/**
 * HubSpot deal won → Asana onboarding project. When a deal moves to "Closed won", creates an
 * onboarding project in the Asana connection's workspace — from the project template the deal
 * names (`asana_template_gid`), else with a fixed task list — and links it back on the deal
 * (`asana_project_gid`, `asana_project_url`). A deal that already has a project gets none. See
 * `docs/workflows/hubspot-deal-won-to-asana-project.md`.
 */
export const hubspotDealWonToAsanaProject = defineWorkflow({
  id: "hubspot-deal-won-to-asana-project",
  trigger: { source: "hubspot", event: "deal.propertychange", filter: isDealWon },
  toInput: (event) => {
    const data = event.data as { objectId?: unknown };
    const id =
      typeof data.objectId === "number" || typeof data.objectId === "string"
        ? String(data.objectId)
        : undefined;
    return { dealId: id };
  },
  input: z.object({ dealId: z.string().regex(/^\d+$/) }),
  retries: { attempts: 5, backoff: { type: "exponential", delayMs: 2_000 } },
  async run({ input, step, connectors, relate }) {
    const deal = await step.run("fetch-deal", async () => {
      const found = await connectors.hubspot.getDeal(input.dealId, {
        properties: Object.values(hubspotAsanaDealProperties),
      });
      // Read once and memoised, so every attempt plans due dates from the same day.
      return { ...found, readOn: new Date().toISOString().slice(0, 10) };
    });
    await relate({ system: "hubspot", recordType: "deal", recordId: deal.id, action: "read" });
    const props = deal.properties;
    if (props.dealstage !== CLOSED_WON) {
      return { skipped: "deal is no longer closed won", dealId: deal.id, dealStage: props.dealstage ?? null };
    }
    const linked = props[hubspotAsanaDealProperties.projectGid];
    if (linked) return { skipped: "deal already has an Asana project", dealId: deal.id, projectGid: linked };

    const dealName = props.dealname ?? `Deal ${deal.id}`;
    // The deal id makes the name unique, so a retry can find a project it already created.
    const name = `Onboarding: ${dealName} (HubSpot deal ${deal.id})`;
    const startOn = props.closedate ? props.closedate.slice(0, 10) : deal.readOn;
    const team = props[hubspotAsanaDealProperties.teamGid] || undefined;
    const templateGid = props[hubspotAsanaDealProperties.templateGid] || undefined;

    let project: { gid: string; url: string };
    const taskGids: string[] = [];
    if (templateGid) {
      const template = await step.run("read-template", () =>
        connectors.asana.getProjectTemplate(templateGid),
      );
      const started = await step.run("instantiate-template", async () => {
        const existing = await connectors.asana.findProjectByName(name);
        if (existing) return { jobGid: null, projectGid: existing.gid };
        // The deal's team, else the template's own (Asana wants one in an organization).
        const projectTeam = team ?? template.teamGid;
        const job = await connectors.asana.createProjectFromTemplate(templateGid, {
          name,
          ...(projectTeam ? { team: projectTeam } : {}),
          requestedDates: template.requestedDates.map((d) => ({ gid: d.gid, value: startOn })),
        });
        return { jobGid: job.gid, projectGid: job.newProject?.gid ?? null };
      });
      const jobGid = started.jobGid;
      const projectGid = jobGid
        ? await step.poll("wait-for-project", {
            intervalMs: 2_000,
            maxChecks: 30,
            check: async () => {
              const job = await connectors.asana.getJob(jobGid);
              if (job.status === "failed") {
                throw new NonRetriableError(
                  `Asana could not instantiate template ${templateGid} (job ${jobGid})`,
                );
              }
              return job.status === "succeeded" ? (job.newProject?.gid ?? started.projectGid) : null;
            },
          })
        : started.projectGid;
      if (!projectGid) throw new NonRetriableError(`Asana job ${jobGid ?? "?"} named no project`);
      project = { gid: projectGid, url: projectUrl(projectGid) };
    } else {
      project = await step.run("create-project", async () => {
        const existing = await connectors.asana.findProjectByName(name);
        const created =
          existing ??
          (await connectors.asana.createProject({
            name,
            notes: projectNotes(deal.id, dealName, props.amount ?? null),
            ...(team ? { team } : {}),
          }));
        return { gid: created.gid, url: created.permalinkUrl ?? projectUrl(created.gid) };
      });
      for (const task of onboardingTasks) {
        const created = await step.run(`create-task-${task.key}`, () =>
          connectors.asana.createTask({
            projects: [project.gid],
            name: task.name,
            ...(task.notes ? { notes: task.notes } : {}),
            dueOn: addDays(startOn, task.dueInDays),
          }),
        );
        taskGids.push(created.gid);
        await relate({ system: "asana", recordType: "task", recordId: created.gid, action: "created" });
      }
    }
    await relate({ system: "asana", recordType: "project", recordId: project.gid, action: "created" });

    await step.run("link-deal", () =>
      connectors.hubspot.updateDeal(deal.id, {
        [hubspotAsanaDealProperties.projectGid]: project.gid,
        [hubspotAsanaDealProperties.projectUrl]: project.url,
      }),
    );
    await relate({ system: "hubspot", recordType: "deal", recordId: deal.id, action: "updated" });

    return {
      dealId: deal.id,
      projectGid: project.gid,
      projectUrl: project.url,
      fromTemplate: templateGid ?? null,
      taskGids,
    };
  },
});

function projectNotes(dealId: string, dealName: string, amount: string | null): string {
  return [
    `Onboarding for HubSpot deal "${dealName}" (id ${dealId}).`,
    amount ? `Deal amount: ${amount}.` : "",
    "Created by Zixly when the deal was won; completing a task here adds a note to the deal.",
  ]
    .filter(Boolean)
    .join("\n");
}
