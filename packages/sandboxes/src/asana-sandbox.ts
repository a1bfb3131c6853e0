import type { NextFunction, Request, Response } from "express";
import {
  bodyOf,
  createSandboxApp,
  type FailureDefaults,
  listen,
  type RunningServer,
  type SandboxControls,
  sendBody,
} from "./http-fixture.js";

/** Fixed defaults, so a demo run and its `.env` can name them. */
export const ASANA_SANDBOX_DEFAULTS = {
  accessToken: "asana-sandbox-access-token",
  workspaceGid: "1200000000000001",
  workspaceName: "Sandbox Organization",
  teamGid: "1200000000000002",
  teamName: "Customer Success",
} as const;

/** `{ gid, resource_type, name }`: how Asana names another object inside a record. */
export interface AsanaCompact {
  gid: string;
  resource_type: string;
  name: string;
}

export interface AsanaWireProject {
  gid: string;
  resource_type: "project";
  name: string;
  notes: string;
  archived: boolean;
  permalink_url: string;
  created_at: string;
  modified_at: string;
  team: AsanaCompact | null;
  workspace: AsanaCompact;
}

export interface AsanaWireTask {
  gid: string;
  resource_type: "task";
  resource_subtype: "default_task";
  name: string;
  notes: string;
  completed: boolean;
  completed_at: string | null;
  due_on: string | null;
  created_at: string;
  modified_at: string;
  permalink_url: string;
  projects: AsanaCompact[];
  workspace: AsanaCompact;
}

export interface AsanaWireStory {
  gid: string;
  resource_type: "story";
  type: "comment";
  resource_subtype: "comment_added";
  text: string;
  created_at: string;
  target: AsanaCompact;
}

export interface AsanaWireTemplate {
  gid: string;
  resource_type: "project_template";
  name: string;
  team: AsanaCompact | null;
  requested_dates: { gid: string; name: string; description: string }[];
  requested_roles: { gid: string; name: string }[];
  /** Not an Asana field: the task names an instantiated project gets (sandbox only). */
  task_names: string[];
}

export interface AsanaWireJob {
  gid: string;
  resource_type: "job";
  resource_subtype: "instantiate_project_template";
  status: "not_started" | "in_progress" | "succeeded" | "failed";
  new_project: AsanaCompact | null;
  new_task: null;
  new_project_template: null;
}

export interface AsanaSandboxWorkspace {
  gid: string;
  name: string;
  /** Organizations require a `team` for new projects, as Asana's do. */
  isOrganization: boolean;
}

export interface AsanaSandboxOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Bearer tokens the API accepts. Default `[ASANA_SANDBOX_DEFAULTS.accessToken]`. */
  validTokens?: string[];
  /** Default: one organization, {@link ASANA_SANDBOX_DEFAULTS}'s. */
  workspaces?: AsanaSandboxWorkspace[];
  /** Default: one team in the default workspace. */
  teams?: { gid: string; name: string; workspaceGid: string }[];
  /** How many `GET /jobs/{gid}` answer `in_progress` before `succeeded` (default 1). */
  jobPollsUntilDone?: number;
  /** Clock. Default `Date.now`. */
  now?: () => number;
}

export interface AsanaSandboxState {
  projects: Map<string, AsanaWireProject>;
  tasks: Map<string, AsanaWireTask>;
  stories: Map<string, AsanaWireStory>;
  templates: Map<string, AsanaWireTemplate>;
  jobs: Map<string, AsanaWireJob & { pollsLeft: number }>;
  workspaces: AsanaSandboxWorkspace[];
  teams: { gid: string; name: string; workspaceGid: string }[];
  validTokens: Set<string>;
}

/** A local stand-in for Asana's REST API 1.0 (projects, templates, jobs, tasks, stories; not Asana). */
export interface AsanaSandbox extends RunningServer, SandboxControls {
  readonly state: AsanaSandboxState;
  readonly projects: AsanaWireProject[];
  readonly tasks: AsanaWireTask[];
  readonly stories: AsanaWireStory[];
  addProject(seed: {
    name: string;
    notes?: string;
    teamGid?: string;
    workspaceGid?: string;
  }): AsanaWireProject;
  addTask(seed: { name: string; projectGids?: string[]; notes?: string; completed?: boolean }): AsanaWireTask;
  /** A project template; instantiating it creates a project with `taskNames` as tasks. */
  addTemplate(seed: {
    name: string;
    teamGid?: string;
    requestedDates?: string[];
    taskNames?: string[];
  }): AsanaWireTemplate;
  /** Mark a task completed (or not), as a user in Asana would. */
  completeTask(gid: string, completed?: boolean): AsanaWireTask;
}

const HELP =
  "For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors";

function errors(message: string): { errors: { message: string; help: string }[] } {
  return { errors: [{ message, help: HELP }] };
}

/** What Asana sends for a status when an injected failure names only the status. */
const asanaFailureDefaults: FailureDefaults = (status) => {
  if (status === 429) {
    return {
      headers: { "Retry-After": "30" },
      body: errors("You have made too many requests recently. Please, be chill."),
    };
  }
  if (status === 401) return { body: errors("Not Authorized") };
  if (status === 403) return { body: errors("Forbidden") };
  if (status === 404) return { body: errors("Unknown object") };
  if (status >= 500) {
    return { body: { errors: [{ message: "Server Error", phrase: "6 sad squid snuggle softly" }] } };
  }
  return { body: errors("Bad Request") };
};

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

function stringList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string") return value.split(",").filter((v) => v !== "");
  return undefined;
}

/**
 * Start a local stand-in for Asana's API (`/api/1.0/...`): projects (create, read, typeahead),
 * project templates and their instantiation jobs, tasks (create, read) and comments, in Asana's
 * `{ "data": ... }` envelopes with its `{ "errors": [{ "message" }] }` errors and bearer auth.
 * Point `ASANA_API_BASE_URL` at {@link AsanaSandbox.url}.
 *
 * @example
 * ```ts
 * const asana = await createAsanaSandbox();
 * const task = asana.addTask({ name: "Kick-off call" });
 * // GET `${asana.url}/api/1.0/tasks/${task.gid}` with Authorization: Bearer asana-sandbox-access-token
 * await asana.close();
 * ```
 */
export async function createAsanaSandbox(options: AsanaSandboxOptions = {}): Promise<AsanaSandbox> {
  const now = options.now ?? Date.now;
  const pollsUntilDone = options.jobPollsUntilDone ?? 1;
  const state: AsanaSandboxState = {
    projects: new Map(),
    tasks: new Map(),
    stories: new Map(),
    templates: new Map(),
    jobs: new Map(),
    workspaces: options.workspaces ?? [
      {
        gid: ASANA_SANDBOX_DEFAULTS.workspaceGid,
        name: ASANA_SANDBOX_DEFAULTS.workspaceName,
        isOrganization: true,
      },
    ],
    teams: options.teams ?? [
      {
        gid: ASANA_SANDBOX_DEFAULTS.teamGid,
        name: ASANA_SANDBOX_DEFAULTS.teamName,
        workspaceGid: ASANA_SANDBOX_DEFAULTS.workspaceGid,
      },
    ],
    validTokens: new Set(options.validTokens ?? [ASANA_SANDBOX_DEFAULTS.accessToken]),
  };
  let nextGid = 1_200_000_000_001_000n;
  const gid = () => String(nextGid++);
  const at = () => new Date(now()).toISOString();

  const { app, controls } = createSandboxApp({
    defaults: asanaFailureDefaults,
    onBadJson: (res) => sendBody(res, 400, errors("Could not parse request data, invalid JSON")),
  });

  const workspaceRef = (w: AsanaSandboxWorkspace): AsanaCompact => ({
    gid: w.gid,
    resource_type: "workspace",
    name: w.name,
  });
  const teamRef = (teamGid: string | undefined): AsanaCompact | null => {
    const team = state.teams.find((t) => t.gid === teamGid);
    return team ? { gid: team.gid, resource_type: "team", name: team.name } : null;
  };
  const projectRef = (p: AsanaWireProject): AsanaCompact => ({
    gid: p.gid,
    resource_type: "project",
    name: p.name,
  });

  const createProject = (input: {
    name: string;
    notes?: string;
    workspace: AsanaSandboxWorkspace;
    teamGid?: string;
  }): AsanaWireProject => {
    const id = gid();
    const project: AsanaWireProject = {
      gid: id,
      resource_type: "project",
      name: input.name,
      notes: input.notes ?? "",
      archived: false,
      permalink_url: `https://app.asana.com/0/${id}/${id}`,
      created_at: at(),
      modified_at: at(),
      team: teamRef(input.teamGid),
      workspace: workspaceRef(input.workspace),
    };
    state.projects.set(id, project);
    return project;
  };

  const createTask = (input: {
    name: string;
    notes?: string;
    dueOn?: string | null;
    projects: AsanaWireProject[];
    workspace: AsanaSandboxWorkspace;
  }): AsanaWireTask => {
    const id = gid();
    const task: AsanaWireTask = {
      gid: id,
      resource_type: "task",
      resource_subtype: "default_task",
      name: input.name,
      notes: input.notes ?? "",
      completed: false,
      completed_at: null,
      due_on: input.dueOn ?? null,
      created_at: at(),
      modified_at: at(),
      permalink_url: `https://app.asana.com/0/${input.projects[0]?.gid ?? "0"}/${id}`,
      projects: input.projects.map(projectRef),
      workspace: workspaceRef(input.workspace),
    };
    state.tasks.set(id, task);
    return task;
  };

  const requireToken = (req: Request, res: Response, next: NextFunction) => {
    const presented = bearer(req);
    if (presented === undefined || !state.validTokens.has(presented)) {
      sendBody(res, 401, errors("Not Authorized"));
      return;
    }
    next();
  };
  app.use("/api/1.0", requireToken);

  /** The `data` object of a write, or a 400 answered here. */
  const dataOf = (res: Response): Record<string, unknown> | undefined => {
    const body = bodyOf(res) as { data?: unknown } | undefined;
    const data = body?.data;
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      sendBody(res, 400, errors("data: Missing input"));
      return undefined;
    }
    return data as Record<string, unknown>;
  };

  const gidOk = (res: Response, kind: string, value: string): boolean => {
    if (!/^\d+$/.test(value)) {
      sendBody(res, 400, errors(`${kind}: Not a recognized ID: ${value}`));
      return false;
    }
    return true;
  };

  const workspaceFor = (res: Response, value: unknown): AsanaSandboxWorkspace | undefined => {
    if (typeof value !== "string" || value === "") {
      sendBody(res, 400, errors("workspace: Missing input"));
      return undefined;
    }
    const workspace = state.workspaces.find((w) => w.gid === value);
    if (!workspace) sendBody(res, 400, errors(`workspace: Not a recognized ID: ${value}`));
    return workspace;
  };

  /** A team for a project in `workspace`: required in organizations; answers 400 itself (returns false). */
  const teamFor = (
    res: Response,
    workspace: AsanaSandboxWorkspace,
    value: unknown,
  ): string | undefined | false => {
    if (value === undefined || value === null || value === "") {
      if (workspace.isOrganization) {
        sendBody(res, 400, errors("team: Missing input"));
        return false;
      }
      return undefined;
    }
    const team = state.teams.find((t) => t.gid === String(value) && t.workspaceGid === workspace.gid);
    if (!team) {
      sendBody(res, 400, errors(`team: Not a recognized ID: ${String(value)}`));
      return false;
    }
    return team.gid;
  };

  app.post("/api/1.0/projects", (_req, res) => {
    const data = dataOf(res);
    if (!data) return;
    const workspace = workspaceFor(res, data.workspace);
    if (!workspace) return;
    const team = teamFor(res, workspace, data.team);
    if (team === false) return;
    if (typeof data.name !== "string" || data.name.trim() === "") {
      sendBody(res, 400, errors("name: Missing input"));
      return;
    }
    const project = createProject({
      name: data.name,
      notes: typeof data.notes === "string" ? data.notes : "",
      workspace,
      ...(team ? { teamGid: team } : {}),
    });
    sendBody(res, 201, { data: project });
  });

  app.get("/api/1.0/projects/:gid", (req, res) => {
    const id = String(req.params.gid);
    if (!gidOk(res, "project", id)) return;
    const project = state.projects.get(id);
    if (!project) {
      sendBody(res, 404, errors(`project: Unknown object: ${id}`));
      return;
    }
    sendBody(res, 200, { data: project });
  });

  app.get("/api/1.0/workspaces/:gid/typeahead", (req, res) => {
    const workspaceGid = String(req.params.gid);
    const query = req.query as Record<string, unknown>;
    if (!state.workspaces.some((w) => w.gid === workspaceGid)) {
      sendBody(res, 404, errors(`workspace: Unknown object: ${workspaceGid}`));
      return;
    }
    if (query.resource_type !== "project") {
      sendBody(res, 400, errors("resource_type: This sandbox only answers typeahead for projects"));
      return;
    }
    const text = typeof query.query === "string" ? query.query.toLowerCase() : "";
    const count = Math.min(Math.max(Number(query.count ?? 20) || 20, 1), 100);
    const matches = [...state.projects.values()]
      .filter((p) => p.workspace.gid === workspaceGid && p.name.toLowerCase().includes(text))
      .reverse()
      .slice(0, count);
    sendBody(res, 200, { data: matches });
  });

  app.get("/api/1.0/project_templates/:gid", (req, res) => {
    const id = String(req.params.gid);
    if (!gidOk(res, "project_template", id)) return;
    const template = state.templates.get(id);
    if (!template) {
      sendBody(res, 404, errors(`project_template: Unknown object: ${id}`));
      return;
    }
    const { task_names: _, ...wire } = template;
    sendBody(res, 200, { data: wire });
  });

  app.post("/api/1.0/project_templates/:gid/instantiateProject", (req, res) => {
    const id = String(req.params.gid);
    if (!gidOk(res, "project_template", id)) return;
    const template = state.templates.get(id);
    if (!template) {
      sendBody(res, 404, errors(`project_template: Unknown object: ${id}`));
      return;
    }
    const data = dataOf(res);
    if (!data) return;
    if (typeof data.name !== "string" || data.name.trim() === "") {
      sendBody(res, 400, errors("name: Missing input"));
      return;
    }
    const teamGid = typeof data.team === "string" ? data.team : undefined;
    const team = teamGid ? state.teams.find((t) => t.gid === teamGid) : undefined;
    const templateTeam = state.teams.find((t) => t.gid === template.team?.gid);
    const workspaceGid = team?.workspaceGid ?? templateTeam?.workspaceGid ?? state.workspaces[0]?.gid;
    const workspace = state.workspaces.find((w) => w.gid === workspaceGid);
    if (!workspace) {
      sendBody(res, 400, errors("workspace: Not a recognized ID"));
      return;
    }
    const teamChecked = teamFor(res, workspace, teamGid);
    if (teamChecked === false) return;
    const given = Array.isArray(data.requested_dates) ? (data.requested_dates as { gid?: unknown }[]) : [];
    const missing = template.requested_dates.find((d) => !given.some((g) => String(g.gid) === d.gid));
    if (missing) {
      sendBody(res, 400, errors(`requested_dates: Missing a value for the date variable ${missing.gid}`));
      return;
    }
    const project = createProject({
      name: data.name,
      workspace,
      ...(teamChecked ? { teamGid: teamChecked } : {}),
    });
    for (const name of template.task_names) createTask({ name, projects: [project], workspace });
    const job: AsanaWireJob & { pollsLeft: number } = {
      gid: gid(),
      resource_type: "job",
      resource_subtype: "instantiate_project_template",
      status: pollsUntilDone > 0 ? "in_progress" : "succeeded",
      new_project: projectRef(project),
      new_task: null,
      new_project_template: null,
      pollsLeft: pollsUntilDone,
    };
    state.jobs.set(job.gid, job);
    const { pollsLeft: _, ...wire } = job;
    sendBody(res, 201, { data: wire });
  });

  app.get("/api/1.0/jobs/:gid", (req, res) => {
    const id = String(req.params.gid);
    if (!gidOk(res, "job", id)) return;
    const job = state.jobs.get(id);
    if (!job) {
      sendBody(res, 404, errors(`job: Unknown object: ${id}`));
      return;
    }
    if (job.pollsLeft > 0) job.pollsLeft -= 1;
    else job.status = "succeeded";
    const { pollsLeft: _, ...wire } = job;
    sendBody(res, 200, { data: wire });
  });

  app.post("/api/1.0/tasks", (_req, res) => {
    const data = dataOf(res);
    if (!data) return;
    const projectGids = stringList(data.projects) ?? [];
    const projects: AsanaWireProject[] = [];
    for (const [i, projectGid] of projectGids.entries()) {
      const project = state.projects.get(projectGid);
      if (!project) {
        sendBody(res, 400, errors(`projects: [${i}]: Not a recognized ID: ${projectGid}`));
        return;
      }
      projects.push(project);
    }
    const workspaceGid =
      typeof data.workspace === "string" ? data.workspace : (projects[0]?.workspace.gid ?? undefined);
    const workspace = workspaceFor(res, workspaceGid);
    if (!workspace) return;
    if (typeof data.due_on === "string" && !/^\d{4}-\d{2}-\d{2}$/.test(data.due_on)) {
      sendBody(res, 400, errors(`due_on: Invalid date: ${data.due_on}`));
      return;
    }
    const task = createTask({
      name: typeof data.name === "string" ? data.name : "",
      notes: typeof data.notes === "string" ? data.notes : "",
      dueOn: typeof data.due_on === "string" ? data.due_on : null,
      projects,
      workspace,
    });
    sendBody(res, 201, { data: task });
  });

  app.get("/api/1.0/tasks/:gid", (req, res) => {
    const id = String(req.params.gid);
    if (!gidOk(res, "task", id)) return;
    const task = state.tasks.get(id);
    if (!task) {
      sendBody(res, 404, errors(`task: Unknown object: ${id}`));
      return;
    }
    sendBody(res, 200, { data: task });
  });

  app.post("/api/1.0/tasks/:gid/stories", (req, res) => {
    const id = String(req.params.gid);
    if (!gidOk(res, "task", id)) return;
    const task = state.tasks.get(id);
    if (!task) {
      sendBody(res, 404, errors(`task: Unknown object: ${id}`));
      return;
    }
    const data = dataOf(res);
    if (!data) return;
    if (typeof data.text !== "string" || data.text.trim() === "") {
      sendBody(res, 400, errors("text: Missing input"));
      return;
    }
    const story: AsanaWireStory = {
      gid: gid(),
      resource_type: "story",
      type: "comment",
      resource_subtype: "comment_added",
      text: data.text,
      created_at: at(),
      target: { gid: task.gid, resource_type: "task", name: task.name },
    };
    state.stories.set(story.gid, story);
    sendBody(res, 201, { data: story });
  });

  app.use((_req: Request, res: Response) => sendBody(res, 404, errors("No matching route for request")));

  const server = await listen(app, options);
  const defaultWorkspace = () => {
    const workspace = state.workspaces[0];
    if (!workspace) throw new Error("the sandbox has no workspace");
    return workspace;
  };

  return {
    ...server,
    ...controls,
    state,
    get projects() {
      return [...state.projects.values()];
    },
    get tasks() {
      return [...state.tasks.values()];
    },
    get stories() {
      return [...state.stories.values()];
    },
    addProject(seed) {
      const workspace = state.workspaces.find((w) => w.gid === seed.workspaceGid) ?? defaultWorkspace();
      return createProject({
        name: seed.name,
        workspace,
        ...(seed.notes !== undefined ? { notes: seed.notes } : {}),
        ...(seed.teamGid ? { teamGid: seed.teamGid } : {}),
      });
    },
    addTask(seed) {
      const projects = (seed.projectGids ?? []).map((g) => {
        const project = state.projects.get(g);
        if (!project) throw new Error(`no project ${g}`);
        return project;
      });
      const task = createTask({
        name: seed.name,
        projects,
        workspace: defaultWorkspace(),
        ...(seed.notes !== undefined ? { notes: seed.notes } : {}),
      });
      if (seed.completed) {
        task.completed = true;
        task.completed_at = at();
      }
      return task;
    },
    addTemplate(seed) {
      const template: AsanaWireTemplate = {
        gid: gid(),
        resource_type: "project_template",
        name: seed.name,
        team: teamRef(seed.teamGid ?? state.teams[0]?.gid),
        requested_dates: (seed.requestedDates ?? []).map((name) => ({ gid: gid(), name, description: name })),
        requested_roles: [],
        task_names: seed.taskNames ?? [],
      };
      state.templates.set(template.gid, template);
      return template;
    },
    completeTask(taskGid, completed = true) {
      const task = state.tasks.get(taskGid);
      if (!task) throw new Error(`no task ${taskGid}`);
      task.completed = completed;
      task.completed_at = completed ? at() : null;
      task.modified_at = at();
      return task;
    },
  };
}
