import { NonRetriableError } from "@zixly/core";
import {
  ApiClient,
  JobsApi,
  ProjectsApi,
  ProjectTemplatesApi,
  StoriesApi,
  TasksApi,
  TypeaheadApi,
} from "asana";
import { createCallRunner, type OnConnectorCall, type SdkResult } from "./connector-call.js";
import type { VendorFailure } from "./http-error.js";

/** Asana's API origin; `ASANA_API_BASE_URL` replaces it (and only it) for sandboxes. */
export const DEFAULT_ASANA_API_BASE_URL = "https://app.asana.com";
/** Where the API lives under the origin, as Asana documents it. */
const API_PATH = "/api/1.0";

/** A compact reference to another Asana object. */
export interface AsanaRef {
  gid: string;
  name: string | null;
}

/** An Asana project, flattened. */
export interface AsanaProject {
  gid: string;
  name: string;
  notes: string | null;
  /** `https://app.asana.com/...` link to the project, when Asana returned one. */
  permalinkUrl: string | null;
  teamGid: string | null;
  workspaceGid: string | null;
}

/** A project template and the inputs instantiating it asks for. */
export interface AsanaProjectTemplate {
  gid: string;
  name: string;
  teamGid: string | null;
  /** Date variables of the template; each needs a value when instantiating. */
  requestedDates: AsanaRef[];
  requestedRoles: AsanaRef[];
}

/** An asynchronous Asana job (e.g. instantiating a template). */
export interface AsanaJob {
  gid: string;
  /** `not_started`, `in_progress`, `succeeded`, `failed`. */
  status: "not_started" | "in_progress" | "succeeded" | "failed" | (string & {});
  /** The project the job creates (known from the start; complete once `succeeded`). */
  newProject: AsanaRef | null;
}

/** An Asana task, flattened. */
export interface AsanaTask {
  gid: string;
  name: string;
  notes: string | null;
  completed: boolean;
  /** ISO time it was completed, or `null`. */
  completedAt: string | null;
  /** `YYYY-MM-DD`, or `null`. */
  dueOn: string | null;
  permalinkUrl: string | null;
  projects: AsanaRef[];
}

/** A story (comment) on a task. */
export interface AsanaStory {
  gid: string;
  text: string;
  createdAt: string | null;
}

/**
 * Typed operations on one Asana workspace (the connection's `externalAccountId`), over the
 * official `asana` (v3) SDK. Every member is an async operation, as the worker's lazy
 * connector proxy requires.
 */
export interface AsanaConnector {
  /**
   * `POST /api/1.0/projects` in the connector's workspace (or `workspace`). In an organization
   * Asana requires a `team`.
   */
  createProject(input: {
    name: string;
    notes?: string;
    team?: string;
    workspace?: string;
  }): Promise<AsanaProject>;
  /**
   * A project of the workspace named exactly `name`, via `GET /api/1.0/workspaces/{gid}/typeahead`
   * (best effort: typeahead is not an exhaustive search), or `null`.
   */
  findProjectByName(name: string): Promise<AsanaProject | null>;
  /** `GET /api/1.0/project_templates/{gid}`. */
  getProjectTemplate(templateGid: string): Promise<AsanaProjectTemplate>;
  /**
   * `POST /api/1.0/project_templates/{gid}/instantiateProject`: starts a job that creates the
   * project; poll {@link AsanaConnector.getJob} until it `succeeded`.
   */
  createProjectFromTemplate(
    templateGid: string,
    input: { name: string; team?: string; requestedDates?: { gid: string; value: string }[] },
  ): Promise<AsanaJob>;
  /** `GET /api/1.0/jobs/{gid}`. */
  getJob(jobGid: string): Promise<AsanaJob>;
  /** `POST /api/1.0/tasks`. */
  createTask(input: { projects: string[]; name: string; notes?: string; dueOn?: string }): Promise<AsanaTask>;
  /** `POST /api/1.0/tasks/{gid}/stories`: a comment on the task. */
  addComment(taskGid: string, text: string): Promise<AsanaStory>;
  /**
   * `GET /api/1.0/tasks/{gid}`.
   * @throws NonRetriableError for an unknown task (404) or rejected credentials (401/403)
   * @throws RetryAfterError when Asana rate-limits (429)
   */
  getTask(taskGid: string): Promise<AsanaTask>;
}

export interface AsanaConnectorOptions {
  /** Personal access token or OAuth access token. */
  accessToken: string;
  /** The workspace to act in: the Asana connection's `externalAccountId`. */
  workspaceGid: string;
  /**
   * Stands for `https://app.asana.com` (`ASANA_API_BASE_URL`): only the origin changes, the
   * connector appends `/api/1.0` as Asana documents it.
   */
  apiBaseUrl?: string;
  /** Reports every operation (latency, outcome) for metrics. */
  onCall?: OnConnectorCall;
  /** Per-call timeout. Default 30 s; a timeout is a retryable error. */
  timeoutMs?: number;
}

const PROJECT_FIELDS = "name,notes,permalink_url,team,workspace";
const TASK_FIELDS = "name,notes,completed,completed_at,due_on,permalink_url,projects,projects.name";
const TEMPLATE_FIELDS = "name,team,requested_dates,requested_dates.name,requested_roles,requested_roles.name";
const JOB_FIELDS = "status,new_project,new_project.name";
const STORY_FIELDS = "text,created_at";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  if (typeof value === "string") return value === "" ? null : value;
  if (typeof value === "number") return String(value);
  return null;
}

function ref(value: unknown): AsanaRef | null {
  if (!isRecord(value)) return null;
  const gid = text(value.gid);
  return gid ? { gid, name: text(value.name) } : null;
}

function refs(value: unknown): AsanaRef[] {
  return Array.isArray(value) ? value.map(ref).filter((r): r is AsanaRef => r !== null) : [];
}

function mapProject(p: Record<string, unknown>): AsanaProject {
  return {
    gid: text(p.gid) ?? "",
    name: text(p.name) ?? "",
    notes: text(p.notes),
    permalinkUrl: text(p.permalink_url),
    teamGid: ref(p.team)?.gid ?? null,
    workspaceGid: ref(p.workspace)?.gid ?? null,
  };
}

function mapTask(t: Record<string, unknown>): AsanaTask {
  return {
    gid: text(t.gid) ?? "",
    name: text(t.name) ?? "",
    notes: text(t.notes),
    completed: t.completed === true,
    completedAt: text(t.completed_at),
    dueOn: text(t.due_on),
    permalinkUrl: text(t.permalink_url),
    projects: refs(t.projects),
  };
}

function mapJob(j: Record<string, unknown>): AsanaJob {
  return { gid: text(j.gid) ?? "", status: text(j.status) ?? "not_started", newProject: ref(j.new_project) };
}

function apiBasePath(apiBaseUrl: string): string {
  const base = new URL(apiBaseUrl);
  const origin = `${base.origin}${base.pathname.replace(/\/+$/, "")}`;
  if (origin.toLowerCase().endsWith(API_PATH)) {
    throw new Error(
      `createAsanaConnector: apiBaseUrl stands for ${DEFAULT_ASANA_API_BASE_URL} (origin only); drop "${API_PATH}" from it`,
    );
  }
  return `${origin}${API_PATH}`;
}

/** Asana's words: `{ "errors": [{ "message": "...", "help": "..." }] }`. */
function asanaDetail(body: unknown): string | undefined {
  if (typeof body === "string") return body === "" ? undefined : body;
  if (!isRecord(body)) return undefined;
  if (Array.isArray(body.errors)) {
    const messages = body.errors
      .map((e) => (isRecord(e) && typeof e.message === "string" ? e.message : undefined))
      .filter((m): m is string => m !== undefined);
    if (messages.length > 0) return messages.join("; ");
  }
  return Object.keys(body).length > 0 ? JSON.stringify(body) : undefined;
}

/**
 * What the SDK rejects with: superagent's error. An HTTP error has `status` and `response`
 * (`body`, `headers` with lower-case names, `text`); a body that does not parse has
 * `statusCode` and `rawResponse`; a network error has only `code` and `message`.
 */
function describeAsanaError(operation: string, err: unknown): VendorFailure {
  const failure: VendorFailure = { connector: "asana", operation };
  const e = (isRecord(err) || err instanceof Error ? err : {}) as {
    status?: unknown;
    statusCode?: unknown;
    response?: unknown;
    rawResponse?: unknown;
    message?: unknown;
  };
  const response = isRecord(e.response) ? e.response : undefined;
  const rawStatus = e.status ?? response?.status ?? e.statusCode;
  const status = typeof rawStatus === "number" && rawStatus > 0 ? rawStatus : undefined;
  if (status !== undefined) {
    failure.httpStatus = status;
    const headers: Record<string, string> = {};
    if (isRecord(response?.headers)) {
      for (const [k, v] of Object.entries(response.headers)) headers[k.toLowerCase()] = String(v);
    }
    failure.headers = headers;
    let body: unknown = response?.body;
    if (!isRecord(body) || Object.keys(body).length === 0) body = response?.text ?? e.rawResponse ?? body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        // Not JSON (a proxy's HTML page): keep the text.
      }
    }
    const detail = asanaDetail(body) ?? (typeof e.message === "string" ? e.message : undefined);
    if (detail !== undefined) failure.detail = detail;
    return failure;
  }
  failure.detail = typeof e.message === "string" ? e.message : String(err);
  return failure;
}

/** The `{ data }` envelope every Asana response has. */
function dataOf(body: unknown): unknown {
  return isRecord(body) ? body.data : undefined;
}

/**
 * An {@link AsanaConnector} over the `asana` v3 SDK, given a ready access token. It builds its
 * own `ApiClient` instead of configuring the SDK's process-wide `ApiClient.instance`, so two
 * connections (two tenants) never share a token or a base URL. Failures map as in
 * {@link toConnectorError}.
 *
 * @example
 * ```ts
 * const asana = createAsanaConnector({ accessToken, workspaceGid: "1200000000000001" });
 * const project = await asana.createProject({ name: "Onboarding: Acme", team: "1200000000000002" });
 * await asana.createTask({ projects: [project.gid], name: "Kick-off call", dueOn: "2026-12-01" });
 * ```
 */
export function createAsanaConnector(options: AsanaConnectorOptions): AsanaConnector {
  if (!options.accessToken) throw new NonRetriableError("createAsanaConnector: accessToken is required");
  if (!options.workspaceGid) throw new NonRetriableError("createAsanaConnector: workspaceGid is required");
  const workspaceGid = options.workspaceGid;
  const client = new ApiClient();
  client.basePath = apiBasePath(options.apiBaseUrl ?? DEFAULT_ASANA_API_BASE_URL);
  client.authentications.token = { type: "personalAccessToken", accessToken: options.accessToken };
  // Collections would wrap list responses in a paging helper that hides the HTTP response.
  client.RETURN_COLLECTION = false;
  client.timeout = options.timeoutMs ?? 30_000;
  const projects = new ProjectsApi(client);
  const templates = new ProjectTemplatesApi(client);
  const jobs = new JobsApi(client);
  const tasks = new TasksApi(client);
  const stories = new StoriesApi(client);
  const typeahead = new TypeaheadApi(client);
  const runner = createCallRunner({
    connector: "asana",
    secrets: [options.accessToken],
    onCall: options.onCall,
    timeoutMs: options.timeoutMs,
  });

  /** One SDK call: its `{ data }` object mapped, timed, error-mapped. */
  const vendor = <T>(
    operation: string,
    call: () => Promise<{ response: unknown; data: unknown }>,
    map: (data: unknown) => T,
  ): Promise<T> =>
    runner.vendor(
      operation,
      async (): Promise<SdkResult<T>> => {
        const { response, data } = await call();
        const status =
          isRecord(response) && typeof response.status === "number" ? response.status : undefined;
        const value = map(dataOf(data));
        return status === undefined ? { value } : { value, httpStatus: status };
      },
      (err) => describeAsanaError(operation, err),
    );

  const record = (operation: string, what: string) => (data: unknown) => {
    if (!isRecord(data)) {
      return runner.fail({
        connector: "asana",
        operation,
        httpStatus: 200,
        detail: `the response held no ${what}`,
      });
    }
    return data;
  };

  const requireGid = (operation: string, name: string, value: string) => {
    // An empty gid would change the path (e.g. GET /tasks/ lists tasks).
    if (typeof value !== "string" || value.trim() === "") {
      throw new NonRetriableError(`asana ${operation}: ${name} is required`);
    }
  };

  return {
    async createProject(input) {
      if (!input.name?.trim()) throw new NonRetriableError("asana createProject: name is required");
      const body: Record<string, unknown> = { name: input.name, workspace: input.workspace ?? workspaceGid };
      if (input.notes !== undefined) body.notes = input.notes;
      if (input.team) body.team = input.team;
      return vendor(
        "createProject",
        () => projects.createProjectWithHttpInfo({ data: body }, { opt_fields: PROJECT_FIELDS }),
        (data) => mapProject(record("createProject", "project")(data)),
      );
    },

    async findProjectByName(name) {
      if (!name?.trim()) throw new NonRetriableError("asana findProjectByName: name is required");
      return vendor(
        "findProjectByName",
        async () =>
          (await typeahead.typeaheadForWorkspaceWithHttpInfo(workspaceGid, "project", {
            query: name,
            count: 20,
            opt_fields: PROJECT_FIELDS,
          })) as { response: unknown; data: unknown },
        (data) => {
          const found = (Array.isArray(data) ? data : [])
            .filter(isRecord)
            .map(mapProject)
            .find((p) => p.name === name);
          return found ?? null;
        },
      );
    },

    async getProjectTemplate(templateGid) {
      requireGid("getProjectTemplate", "templateGid", templateGid);
      return vendor(
        "getProjectTemplate",
        () => templates.getProjectTemplateWithHttpInfo(templateGid, { opt_fields: TEMPLATE_FIELDS }),
        (data) => {
          const t = record("getProjectTemplate", "project template")(data);
          return {
            gid: text(t.gid) ?? templateGid,
            name: text(t.name) ?? "",
            teamGid: ref(t.team)?.gid ?? null,
            requestedDates: refs(t.requested_dates),
            requestedRoles: refs(t.requested_roles),
          };
        },
      );
    },

    async createProjectFromTemplate(templateGid, input) {
      requireGid("createProjectFromTemplate", "templateGid", templateGid);
      if (!input.name?.trim())
        throw new NonRetriableError("asana createProjectFromTemplate: name is required");
      const data: Record<string, unknown> = { name: input.name };
      if (input.team) data.team = input.team;
      if (input.requestedDates && input.requestedDates.length > 0)
        data.requested_dates = input.requestedDates;
      // The SDK uses this one `opts` object both for the body (`opts.body`) and, whole, as the
      // query string, which would add `body=[object Object]` to the URL. A non-enumerable
      // `body` is read as the body but skipped when the query is built.
      const opts: { opt_fields: string; body?: unknown } = { opt_fields: JOB_FIELDS };
      Object.defineProperty(opts, "body", { value: { data }, enumerable: false });
      return vendor(
        "createProjectFromTemplate",
        () => templates.instantiateProjectWithHttpInfo(templateGid, opts),
        (job) => mapJob(record("createProjectFromTemplate", "job")(job)),
      );
    },

    async getJob(jobGid) {
      requireGid("getJob", "jobGid", jobGid);
      return vendor(
        "getJob",
        () => jobs.getJobWithHttpInfo(jobGid, { opt_fields: JOB_FIELDS }),
        (data) => mapJob(record("getJob", "job")(data)),
      );
    },

    async createTask(input) {
      if (!input.name?.trim()) throw new NonRetriableError("asana createTask: name is required");
      if (!Array.isArray(input.projects) || input.projects.length === 0)
        throw new NonRetriableError("asana createTask: at least one project is required");
      const body: Record<string, unknown> = { name: input.name, projects: input.projects };
      if (input.notes !== undefined) body.notes = input.notes;
      if (input.dueOn) body.due_on = input.dueOn;
      return vendor(
        "createTask",
        () => tasks.createTaskWithHttpInfo({ data: body }, { opt_fields: TASK_FIELDS }),
        (data) => mapTask(record("createTask", "task")(data)),
      );
    },

    async addComment(taskGid, commentText) {
      requireGid("addComment", "taskGid", taskGid);
      if (!commentText?.trim()) throw new NonRetriableError("asana addComment: text is required");
      return vendor(
        "addComment",
        () =>
          stories.createStoryForTaskWithHttpInfo({ data: { text: commentText } }, taskGid, {
            opt_fields: STORY_FIELDS,
          }),
        (data) => {
          const s = record("addComment", "story")(data);
          return { gid: text(s.gid) ?? "", text: text(s.text) ?? "", createdAt: text(s.created_at) };
        },
      );
    },

    async getTask(taskGid) {
      requireGid("getTask", "taskGid", taskGid);
      return vendor(
        "getTask",
        () => tasks.getTaskWithHttpInfo(taskGid, { opt_fields: TASK_FIELDS }),
        (data) => mapTask(record("getTask", "task")(data)),
      );
    },
  };
}
