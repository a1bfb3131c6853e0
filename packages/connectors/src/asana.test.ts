import {
  isNonRetriableError,
  NonRetriableError,
  RetryAfterError,
  retryAfterMsOf,
  serializeError,
} from "@zixly/core";
import { ASANA_SANDBOX_DEFAULTS, type AsanaSandbox, createAsanaSandbox } from "@zixly/sandboxes";
import { ApiClient } from "asana";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AsanaConnectorOptions, createAsanaConnector } from "./asana.js";
import type { ConnectorCall } from "./connector-call.js";

/** Distinctive, so a leak anywhere in an error is easy to spot. */
const SECRET_TOKEN = "2/1200/asana-SHOULD-NEVER-APPEAR-IN-ERRORS-77ab";
const WORKSPACE = ASANA_SANDBOX_DEFAULTS.workspaceGid;
const TEAM = ASANA_SANDBOX_DEFAULTS.teamGid;

let sandbox: AsanaSandbox;
beforeEach(async () => {
  sandbox = await createAsanaSandbox({ validTokens: [SECRET_TOKEN] });
});
afterEach(async () => {
  await sandbox.close();
});

function connector(overrides: Partial<AsanaConnectorOptions> = {}) {
  return createAsanaConnector({
    accessToken: SECRET_TOKEN,
    workspaceGid: WORKSPACE,
    apiBaseUrl: sandbox.url,
    ...overrides,
  });
}

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error("expected a rejection");
}

function expectNoSecret(err: Error): void {
  const everything = JSON.stringify(serializeError(err)) + String(err.stack) + JSON.stringify(err);
  expect(everything).not.toContain(SECRET_TOKEN);
  expect(err.cause).toBeUndefined();
}

describe("asana connector: operations through the asana SDK against the sandbox", () => {
  it("creates a project in the workspace with the documented body, path and bearer token", async () => {
    const project = await connector({ apiBaseUrl: `${sandbox.url}/` }).createProject({
      name: "Onboarding: Acme",
      notes: "Deal 1234",
      team: TEAM,
    });
    expect(project).toEqual({
      gid: expect.stringMatching(/^\d+$/),
      name: "Onboarding: Acme",
      notes: "Deal 1234",
      permalinkUrl: expect.stringContaining(project.gid),
      teamGid: TEAM,
      workspaceGid: WORKSPACE,
    });
    expect(sandbox.requests[0]).toMatchObject({
      method: "POST",
      path: "/api/1.0/projects",
      headers: { authorization: `Bearer ${SECRET_TOKEN}` },
      body: { data: { name: "Onboarding: Acme", notes: "Deal 1234", team: TEAM, workspace: WORKSPACE } },
    });
    expect(sandbox.requests[0]?.query.opt_fields).toContain("permalink_url");
  });

  it("creates tasks, reads them back and comments on them", async () => {
    const asana = connector();
    const project = sandbox.addProject({ name: "Onboarding", teamGid: TEAM });
    const task = await asana.createTask({
      projects: [project.gid],
      name: "Kick-off call",
      notes: "Book it",
      dueOn: "2026-12-01",
    });
    expect(task).toMatchObject({
      name: "Kick-off call",
      notes: "Book it",
      dueOn: "2026-12-01",
      completed: false,
      completedAt: null,
      projects: [{ gid: project.gid, name: "Onboarding" }],
    });
    sandbox.completeTask(task.gid);
    await expect(asana.getTask(task.gid)).resolves.toMatchObject({
      gid: task.gid,
      completed: true,
      completedAt: expect.any(String),
    });
    const story = await asana.addComment(task.gid, "Logged in HubSpot");
    expect(story).toMatchObject({ gid: expect.any(String), text: "Logged in HubSpot" });
    expect(sandbox.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/1.0/tasks",
      `GET /api/1.0/tasks/${task.gid}`,
      `POST /api/1.0/tasks/${task.gid}/stories`,
    ]);
    expect(sandbox.requests[0]?.body).toEqual({
      data: { name: "Kick-off call", notes: "Book it", due_on: "2026-12-01", projects: [project.gid] },
    });
  });

  it("finds a project by its exact name through typeahead", async () => {
    sandbox.addProject({ name: "Onboarding: Acme Ltd (deal 7)" });
    const exact = sandbox.addProject({ name: "Onboarding: Acme" });
    const asana = connector();
    await expect(asana.findProjectByName("Onboarding: Acme")).resolves.toMatchObject({ gid: exact.gid });
    await expect(asana.findProjectByName("Onboarding: Nobody")).resolves.toBeNull();
    expect(sandbox.requests[0]).toMatchObject({
      path: `/api/1.0/workspaces/${WORKSPACE}/typeahead`,
      query: { resource_type: "project", query: "Onboarding: Acme" },
    });
  });

  it("instantiates a template (a job) and polls the job until the project exists", async () => {
    const template = sandbox.addTemplate({
      name: "Client onboarding",
      requestedDates: ["Start date"],
      taskNames: ["Kick-off", "Go-live"],
    });
    const asana = connector();
    const read = await asana.getProjectTemplate(template.gid);
    expect(read).toEqual({
      gid: template.gid,
      name: "Client onboarding",
      teamGid: TEAM,
      requestedDates: [{ gid: expect.any(String), name: "Start date" }],
      requestedRoles: [],
    });
    const job = await asana.createProjectFromTemplate(template.gid, {
      name: "Onboarding: Acme",
      team: TEAM,
      requestedDates: read.requestedDates.map((d) => ({ gid: d.gid, value: "2026-12-01" })),
    });
    expect(job).toMatchObject({ status: "in_progress", newProject: { name: "Onboarding: Acme" } });
    const instantiate = sandbox.requests.at(-1);
    expect(instantiate).toMatchObject({
      path: `/api/1.0/project_templates/${template.gid}/instantiateProject`,
      body: { data: { name: "Onboarding: Acme", team: TEAM } },
    });
    // The SDK would also put its `opts.body` into the query string; the connector keeps it out.
    expect(Object.keys(instantiate?.query ?? {})).toEqual(["opt_fields"]);

    await expect(asana.getJob(job.gid)).resolves.toMatchObject({ status: "in_progress" });
    await expect(asana.getJob(job.gid)).resolves.toMatchObject({
      status: "succeeded",
      newProject: { gid: job.newProject?.gid },
    });
    expect(sandbox.tasks.map((t) => t.name)).toEqual(["Kick-off", "Go-live"]);
  });

  it("gives each connector its own client: the SDK's shared ApiClient.instance is untouched", async () => {
    const other = await createAsanaSandbox({ validTokens: ["other-token"] });
    try {
      const a = connector();
      const b = createAsanaConnector({
        accessToken: "other-token",
        workspaceGid: WORKSPACE,
        apiBaseUrl: other.url,
      });
      const taskA = sandbox.addTask({ name: "A" });
      const taskB = other.addTask({ name: "B" });
      await Promise.all([a.getTask(taskA.gid), b.getTask(taskB.gid)]);
      expect(sandbox.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET_TOKEN}`);
      expect(other.requests[0]?.headers.authorization).toBe("Bearer other-token");
      expect(ApiClient.instance.basePath).toBe("https://app.asana.com/api/1.0");
    } finally {
      await other.close();
    }
  });
});

describe("asana connector: error mapping", () => {
  it("an unknown task → NonRetriableError with Asana's message", async () => {
    const err = await rejectionOf(connector().getTask("1200000000099999"));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe("asana getTask failed: 404 Not Found — task: Unknown object: 1200000000099999");
    expectNoSecret(err);
  });

  it("a project without a team in an organization → NonRetriableError (400)", async () => {
    const err = await rejectionOf(connector().createProject({ name: "No team" }));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe("asana createProject failed: 400 Bad Request — team: Missing input");
  });

  it("429 → RetryAfterError with Asana's Retry-After", async () => {
    const task = sandbox.addTask({ name: "x" });
    sandbox.failNext({ status: 429 });
    const err = await rejectionOf(connector().getTask(task.gid));
    expect(err).toBeInstanceOf(RetryAfterError);
    expect(retryAfterMsOf(err)).toBe(30_000);
    expect(err.message).toBe(
      "asana getTask failed: 429 Too Many Requests — You have made too many requests recently. Please, be chill. (retry after 30s)",
    );
    expectNoSecret(err);
  });

  it("5xx (JSON or HTML) and network errors → plain, retryable Errors", async () => {
    const task = sandbox.addTask({ name: "x" });
    sandbox.failNext({ status: 503 });
    const json = await rejectionOf(connector().getTask(task.gid));
    expect(json.constructor).toBe(Error);
    expect(isNonRetriableError(json)).toBe(false);
    expect(json.message).toBe("asana getTask failed: 503 Service Unavailable — Server Error");

    sandbox.failNext({
      status: 502,
      body: "<html>Bad gateway</html>",
      headers: { "content-type": "text/html" },
    });
    const html = await rejectionOf(connector().getTask(task.gid));
    expect(html.message).toBe("asana getTask failed: 502 Bad Gateway — Bad gateway");

    sandbox.failNext({ reset: true });
    const reset = await rejectionOf(connector().getTask(task.gid));
    expect(reset.constructor).toBe(Error);
    expect(reset.message).toMatch(/^asana getTask failed: network error — /);
    expectNoSecret(reset);
  });

  it("a rejected token → NonRetriableError without the token", async () => {
    await sandbox.close();
    sandbox = await createAsanaSandbox({ validTokens: ["another"] });
    const err = await rejectionOf(connector().getTask("1"));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err.message).toBe("asana getTask failed: 401 Unauthorized — Not Authorized");
    expectNoSecret(err);
    expect(sandbox.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET_TOKEN}`);
  });

  it("an error body that echoes the token is scrubbed", async () => {
    sandbox.failNext({ status: 400, body: { errors: [{ message: `token ${SECRET_TOKEN} is odd` }] } });
    const err = await rejectionOf(connector().getTask("1"));
    expect(err.message).toContain("[redacted]");
    expectNoSecret(err);
  });

  it("refuses empty ids, names and texts without calling Asana, and a base URL with the API path", async () => {
    const asana = connector();
    for (const call of [
      asana.getTask(" "),
      asana.addComment("1", " "),
      asana.createTask({ projects: [], name: "x" }),
      asana.createProject({ name: "" }),
      asana.getJob(""),
    ]) {
      expect(await rejectionOf(call)).toBeInstanceOf(NonRetriableError);
    }
    expect(sandbox.requests).toHaveLength(0);
    expect(() => connector({ apiBaseUrl: `${sandbox.url}/api/1.0` })).toThrow(/origin only/);
  });
});

describe("asana connector: onCall", () => {
  it("reports every operation with outcome, HTTP status and latency", async () => {
    const calls: ConnectorCall[] = [];
    const asana = connector({ onCall: (c) => calls.push(c) });
    const task = sandbox.addTask({ name: "x" });
    await asana.getTask(task.gid);
    await rejectionOf(asana.getTask("404404"));
    expect(calls.map(({ durationMs: _, ...c }) => c)).toEqual([
      { connector: "asana", operation: "getTask", status: "ok", httpStatus: 200 },
      { connector: "asana", operation: "getTask", status: "error", httpStatus: 404 },
    ]);
  });
});
