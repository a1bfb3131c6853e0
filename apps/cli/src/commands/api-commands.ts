import { type ApiTarget, api } from "../api-client.js";
import type { CliIo } from "../io.js";
import { UsageError } from "../io.js";
import { progress } from "../progress.js";

interface Job {
  id: string;
  workflow: string;
  status: string;
  attempts: number;
  createdAt: string;
  completedAt: string | null;
  error: { message?: string } | null;
}

const pad = (s: string, n: number) => s.padEnd(n).slice(0, n);

export async function tenantCreate(target: ApiTarget, io: CliIo, name: string | undefined): Promise<void> {
  if (!name) throw new UsageError("tenant create needs --name");
  const tenant = await api<{ id: string; apiKey: string }>(target, "POST", "/api/tenants", { name });
  io.out(JSON.stringify(tenant, null, 2));
  io.err("The API key is shown once: store it now (e.g. export ZIXLY_API_KEY=...).");
}

export async function endpointCreate(
  target: ApiTarget,
  io: CliIo,
  options: { source?: string; name?: string; secret?: string },
): Promise<void> {
  if (!options.source || !options.name) throw new UsageError("endpoint create needs --source and --name");
  const endpoint = await api(target, "POST", "/api/endpoints", {
    source: options.source,
    name: options.name,
    ...(options.secret ? { secret: options.secret } : {}),
  });
  io.out(JSON.stringify(endpoint, null, 2));
}

export async function jobsList(
  target: ApiTarget,
  io: CliIo,
  query: { status?: string; workflow?: string; limit?: string; json?: boolean },
) {
  const params = new URLSearchParams();
  if (query.status) params.set("status", query.status.toUpperCase());
  if (query.workflow) params.set("workflow", query.workflow);
  params.set("limit", query.limit ?? "20");
  const page = await api<{ jobs: Job[]; nextCursor: string | null }>(target, "GET", `/api/jobs?${params}`);
  if (query.json) {
    io.out(JSON.stringify(page, null, 2));
    return;
  }
  io.out(`${pad("ID", 36)}  ${pad("WORKFLOW", 30)}  ${pad("STATUS", 9)}  ATT  CREATED`);
  for (const j of page.jobs) {
    io.out(
      `${j.id}  ${pad(j.workflow, 30)}  ${pad(j.status, 9)}  ${String(j.attempts).padStart(3)}  ${j.createdAt}`,
    );
  }
  if (page.nextCursor) io.err(`more: --cursor ${page.nextCursor}`);
}

export async function jobsGet(target: ApiTarget, io: CliIo, id: string | undefined): Promise<void> {
  if (!id) throw new UsageError("jobs get needs a job id");
  io.out(JSON.stringify(await api(target, "GET", `/api/jobs/${encodeURIComponent(id)}`), null, 2));
}

/** Replays one job, or every FAILED job (`--all-failed`, optionally of one `--workflow`) with progress. */
export async function jobsReplay(
  target: ApiTarget,
  io: CliIo,
  options: { id?: string; allFailed?: boolean; workflow?: string; fromScratch?: boolean },
): Promise<void> {
  const suffix = options.fromScratch ? "?fromScratch=true" : "";
  if (options.id) {
    io.out(
      JSON.stringify(
        await api(target, "POST", `/api/jobs/${encodeURIComponent(options.id)}/replay${suffix}`),
        null,
        2,
      ),
    );
    return;
  }
  if (!options.allFailed) throw new UsageError("jobs replay needs a job id or --all-failed");
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams({ status: "FAILED", limit: "200" });
    if (options.workflow) params.set("workflow", options.workflow);
    if (cursor) params.set("cursor", cursor);
    const page: { jobs: Job[]; nextCursor: string | null } = await api(target, "GET", `/api/jobs?${params}`);
    ids.push(...page.jobs.map((j) => j.id));
    cursor = page.nextCursor;
  } while (cursor);
  const bar = progress(io, "replaying", ids.length);
  for (const id of ids) {
    await api(target, "POST", `/api/jobs/${id}/replay${suffix}`);
    bar.tick();
  }
  bar.finish();
  io.out(`${ids.length} failed job(s) queued again`);
}
