import { Prisma, withTenant } from "@zixly/db";
import { type Request, Router } from "express";
import { requireRole } from "../http/auth.js";
import type { ReceiverDeps } from "../http/context.js";
import { HttpError, notFound } from "../http/errors.js";
import { isUuid } from "../http/validate.js";
import { enqueueJobs } from "../ingest/enqueue-jobs.js";

/** Replay and cancel: operators' levers on single jobs (ADMIN and EDITOR keys). */
export function jobActionRoutes(deps: ReceiverDeps): Router {
  const { prisma, queue, registry } = deps;
  const router = Router();

  async function loadOwned(req: Request) {
    const id = String(req.params.id ?? "");
    if (!isUuid(id)) throw notFound("job");
    const tenantId = req.auth!.tenantId;
    const job = await withTenant(prisma, tenantId, (tx) => tx.job.findFirst({ where: { id, tenantId } }));
    if (!job) throw notFound("job");
    return job;
  }

  /**
   * A FAILED job runs again. Its succeeded steps are kept and replayed from their memo, unless
   * `?fromScratch=true`, which forgets every step (and related record) first.
   */
  router.post("/:id/replay", requireRole("ADMIN", "EDITOR"), async (req, res) => {
    const job = await loadOwned(req);
    const fromScratch = req.query.fromScratch === "true" || req.query.fromScratch === "1";
    const replayed = await withTenant(prisma, job.tenantId, async (tx) => {
      const { count } = await tx.job.updateMany({
        where: { id: job.id, status: "FAILED" },
        data: {
          status: "QUEUED",
          attempts: 0,
          error: Prisma.DbNull,
          result: Prisma.DbNull,
          startedAt: null,
          completedAt: null,
          cancelRequestedAt: null,
          enqueuedAt: null,
        },
      });
      if (count === 0) return false;
      if (fromScratch) {
        await tx.jobStep.deleteMany({ where: { jobId: job.id } });
        await tx.relatedRecord.deleteMany({ where: { jobId: job.id } });
        await tx.callbackToken.deleteMany({ where: { jobId: job.id } });
      } else {
        // Failed steps run again; succeeded ones stay memoised.
        await tx.jobStep.deleteMany({ where: { jobId: job.id, status: { not: "COMPLETED" } } });
      }
      return true;
    });
    if (!replayed)
      throw new HttpError(409, "conflict", `only FAILED jobs can be replayed; this one is ${job.status}`);
    try {
      // A fresh message id: the failed run's message is still in the dead-letter set.
      await enqueueJobs(prisma, queue, registry, [{ ...job, messageId: `${job.id}-r${Date.now()}` }]);
    } catch (err) {
      req.log.warn({ err, jobId: job.id }, "queue unavailable; the replay is left to the outbox relay");
    }
    req.log.info({ jobId: job.id, fromScratch }, "job replayed");
    res.status(202).json({ id: job.id, status: "QUEUED", fromScratch });
  });

  /**
   * QUEUED or WAITING jobs are cancelled at once; a RUNNING job is asked to stop and does so
   * at its next step boundary.
   */
  router.post("/:id/cancel", requireRole("ADMIN", "EDITOR"), async (req, res) => {
    const job = await loadOwned(req);
    const now = new Date();
    const cancelled = await withTenant(prisma, job.tenantId, (tx) =>
      tx.job.updateMany({
        where: { id: job.id, status: { in: ["QUEUED", "WAITING"] } },
        data: { status: "CANCELLED", completedAt: now, cancelRequestedAt: now, wakeAt: null },
      }),
    );
    if (cancelled.count > 0) {
      res.json({ id: job.id, status: "CANCELLED" });
      return;
    }
    const requested = await withTenant(prisma, job.tenantId, (tx) =>
      tx.job.updateMany({ where: { id: job.id, status: "RUNNING" }, data: { cancelRequestedAt: now } }),
    );
    if (requested.count > 0) {
      res.status(202).json({ id: job.id, status: "RUNNING", cancelRequested: true });
      return;
    }
    throw new HttpError(409, "conflict", `a ${job.status} job cannot be cancelled`);
  });

  return router;
}
