import { afterEach, describe, expect, it } from "vitest";
import {
  ASANA_SANDBOX_DEFAULTS,
  type AsanaSandbox,
  type AsanaSandboxOptions,
  createAsanaSandbox,
} from "./asana-sandbox.js";

const open: AsanaSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(options?: AsanaSandboxOptions): Promise<AsanaSandbox> {
  const sandbox = await createAsanaSandbox(options);
  open.push(sandbox);
  return sandbox;
}

async function call(sandbox: AsanaSandbox, method: string, path: string, data?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${ASANA_SANDBOX_DEFAULTS.accessToken}` };
  if (data !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${sandbox.url}/api/1.0${path}`, {
    method,
    headers,
    body: data === undefined ? undefined : JSON.stringify({ data }),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe("asana sandbox", () => {
  it("creates projects and tasks in { data } envelopes; a project in an organization needs a team", async () => {
    const asana = await start();
    const noTeam = await call(asana, "POST", "/projects", {
      name: "P",
      workspace: ASANA_SANDBOX_DEFAULTS.workspaceGid,
    });
    expect(noTeam.status).toBe(400);
    expect(noTeam.json).toEqual({ errors: [{ message: "team: Missing input", help: expect.any(String) }] });

    const project = await call(asana, "POST", "/projects", {
      name: "Onboarding",
      workspace: ASANA_SANDBOX_DEFAULTS.workspaceGid,
      team: ASANA_SANDBOX_DEFAULTS.teamGid,
    });
    expect(project.status).toBe(201);
    const p = project.json.data as { gid: string; team: { gid: string }; resource_type: string };
    expect(p).toMatchObject({ resource_type: "project", team: { gid: ASANA_SANDBOX_DEFAULTS.teamGid } });

    const task = await call(asana, "POST", "/tasks", {
      name: "Kick-off",
      projects: [p.gid],
      due_on: "2026-12-01",
    });
    expect(task.status).toBe(201);
    const t = task.json.data as { gid: string };
    expect(task.json.data).toMatchObject({
      name: "Kick-off",
      due_on: "2026-12-01",
      projects: [{ gid: p.gid }],
    });

    const story = await call(asana, "POST", `/tasks/${t.gid}/stories`, { text: "Hello" });
    expect(story.json.data).toMatchObject({ type: "comment", text: "Hello", target: { gid: t.gid } });
    expect((await call(asana, "GET", `/tasks/${t.gid}`)).json.data).toMatchObject({
      gid: t.gid,
      completed: false,
    });
    asana.completeTask(t.gid);
    expect((await call(asana, "GET", `/tasks/${t.gid}`)).json.data).toMatchObject({ completed: true });

    const badProject = await call(asana, "POST", "/tasks", { name: "x", projects: ["999"] });
    expect(badProject.json).toMatchObject({
      errors: [{ message: "projects: [0]: Not a recognized ID: 999" }],
    });
  });

  it("instantiates a template as a job that succeeds after a poll; requested dates are required", async () => {
    const asana = await start({ jobPollsUntilDone: 1 });
    const template = asana.addTemplate({
      name: "Onboarding",
      requestedDates: ["Start"],
      taskNames: ["A", "B"],
    });
    const path = `/project_templates/${template.gid}/instantiateProject`;
    const missing = await call(asana, "POST", path, { name: "New", team: ASANA_SANDBOX_DEFAULTS.teamGid });
    expect(missing.status).toBe(400);

    const dateGid = template.requested_dates[0]?.gid;
    const started = await call(asana, "POST", path, {
      name: "New",
      team: ASANA_SANDBOX_DEFAULTS.teamGid,
      requested_dates: [{ gid: dateGid, value: "2026-12-01" }],
    });
    expect(started.status).toBe(201);
    const job = started.json.data as { gid: string; status: string; new_project: { gid: string } };
    expect(job).toMatchObject({ resource_type: "job", status: "in_progress", new_project: { name: "New" } });
    expect((await call(asana, "GET", `/jobs/${job.gid}`)).json.data).toMatchObject({ status: "in_progress" });
    expect((await call(asana, "GET", `/jobs/${job.gid}`)).json.data).toMatchObject({ status: "succeeded" });
    expect(asana.tasks.map((t) => [t.name, t.projects[0]?.gid])).toEqual([
      ["A", job.new_project.gid],
      ["B", job.new_project.gid],
    ]);
  });

  it("answers 401 without a token, 404 for unknown objects, 429 with Retry-After when told", async () => {
    const asana = await start();
    const denied = await fetch(`${asana.url}/api/1.0/tasks/1`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ errors: [{ message: "Not Authorized" }] });
    expect((await call(asana, "GET", "/tasks/123")).status).toBe(404);
    expect((await call(asana, "GET", "/tasks/abc")).json).toMatchObject({
      errors: [{ message: "task: Not a recognized ID: abc" }],
    });
    asana.failNext({ status: 429 });
    const limited = await call(asana, "GET", "/tasks/1");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("30");
  });
});
