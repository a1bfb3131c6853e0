import { type Prisma, withTenant } from "@zixly/db";
import { isResultRef } from "@zixly/storage";
import { Router } from "express";
import { z } from "zod";
import type { ReceiverDeps } from "../http/context.js";
import { HttpError, notFound } from "../http/errors.js";
import { isUuid, parseBody } from "../http/validate.js";

const jobStatuses = ["QUEUED", "RUNNING", "WAITING", "COMPLETED", "FAILED", "CANCELLED"] as const;

const ListQuery = z.object({
  status: z.enum(jobStatuses).optional(),
  workflow: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).optional(),
});

const jobDetail = {
  steps: { orderBy: [{ startedAt: "asc" }, { name: "asc" }] },
  relatedRecords: { orderBy: { createdAt: "asc" } },
} satisfies Prisma.JobInclude;
type JobWithDetail = Prisma.JobGetPayload<{ include: typeof jobDetail }>;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** The job as the API shows it (DESIGN.md "A job reads as"). */
export function toJobView(job: JobWithDetail) {
  return {
    id: job.id,
    tenantId: job.tenantId,
    workflow: job.workflow,
    status: job.status,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    eventId: job.eventId,
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    completedAt: iso(job.completedAt),
    result: job.result ?? null,
    error: job.error ?? null,
    steps: job.steps.map((s) => ({
      name: s.name,
      status: s.status,
      attempt: s.attempt,
      startedAt: iso(s.startedAt),
      completedAt: iso(s.completedAt),
      ...(s.output !== null ? { output: s.output } : {}),
      ...(s.error !== null ? { error: s.error } : {}),
    })),
    relatedRecords: job.relatedRecords.map((r) => ({
      system: r.system,
      recordType: r.recordType,
      recordId: r.recordId,
      action: r.action,
    })),
  };
}

/**
 * Adds short-lived download URLs for what the job keeps in the result store (a large result,
 * large step outputs, the execution record). Keys are signed for the caller's tenant only.
 */
async function withDownloadUrls(view: ReturnType<typeof toJobView>, job: JobWithDetail, deps: ReceiverDeps) {
  const results = deps.results;
  if (!results) return view;
  const sign = (key: string) => results.store.signedUrl(job.tenantId, key, results.urlTtlSec);
  const out: Record<string, unknown> = { ...view };
  if (isResultRef(job.result)) out.resultUrl = await sign(job.result.key);
  if (job.recordKey) out.recordUrl = await sign(job.recordKey);
  out.steps = await Promise.all(
    view.steps.map(async (step) =>
      isResultRef(step.output) ? { ...step, outputUrl: await sign(step.output.key) } : step,
    ),
  );
  return out;
}

/** Cursor = the last row's (createdAt, id), opaque to clients. */
function encodeCursor(job: { createdAt: Date; id: string }): string {
  return Buffer.from(`${job.createdAt.toISOString()}|${job.id}`).toString("base64url");
}
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw new HttpError(400, "invalid_request", "cursor is not one this API returned");
  }
  return { createdAt, id };
}

/** Reading jobs: every query is scoped to the caller's tenant, so another tenant's job is a 404. */
export function jobRoutes(deps: ReceiverDeps): Router {
  const { prisma } = deps;
  const router = Router();

  router.get("/:id", async (req, res) => {
    const id = req.params.id as string;
    if (!isUuid(id)) throw notFound("job");
    const job = await prisma.job.findFirst({
      where: { id, tenantId: req.auth!.tenantId },
      include: jobDetail,
    });
    if (!job) throw notFound("job");
    res.json(await withDownloadUrls(toJobView(job), job, deps));
  });

  router.get("/", async (req, res) => {
    const query = parseBody(ListQuery, req.query);
    const where: Prisma.JobWhereInput = { tenantId: req.auth!.tenantId };
    if (query.status) where.status = query.status;
    if (query.workflow) where.workflow = query.workflow;
    if (query.cursor) {
      const c = decodeCursor(query.cursor);
      where.OR = [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }];
    }
    const rows = await withTenant(prisma, req.auth!.tenantId, (tx) =>
      tx.job.findMany({
        where,
        include: jobDetail,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: query.limit + 1,
      }),
    );
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    res.json({
      jobs: page.map(toJobView),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null,
    });
  });

  return router;
}
