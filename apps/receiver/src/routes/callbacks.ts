import { sha256Hex } from "@zixly/core";
import type { Prisma } from "@zixly/db";
import express, { Router } from "express";
import type { ReceiverDeps } from "../http/context.js";
import { HttpError, notFound } from "../http/errors.js";
import { enqueueJobs } from "../ingest/enqueue-jobs.js";

const tokenPattern = /^[A-Za-z0-9_-]{20,100}$/;

/**
 * `POST /callbacks/:token`: an external system completes a `step.waitForCallback`. The
 * token is the credential (one-time, unguessable, stored hashed); the JSON body becomes the
 * step's output and the job resumes. Unknown or expired token → 404, used token → 409.
 */
export function callbackRoutes(deps: ReceiverDeps): Router {
  const { prisma, queue, registry } = deps;
  const router = Router();

  router.post(
    "/:token",
    express.json({ limit: deps.config.maxBodyBytes, type: () => true }),
    async (req, res) => {
      const token = req.params.token as string;
      if (!tokenPattern.test(token)) throw notFound("callback");
      const tokenHash = sha256Hex(token);
      const body = (req.body ?? null) as Prisma.InputJsonValue;

      const outcome = await prisma.$transaction(async (tx) => {
        const row = await tx.callbackToken.findUnique({ where: { tokenHash } });
        if (!row || row.expiresAt.getTime() <= Date.now()) return { kind: "unknown" as const };
        const claimed = await tx.callbackToken.updateMany({
          where: { tokenHash, usedAt: null },
          data: { usedAt: new Date() },
        });
        if (claimed.count === 0) return { kind: "used" as const };
        const step = await tx.jobStep.updateMany({
          where: { jobId: row.jobId, name: row.stepName, status: "WAITING" },
          data: { status: "COMPLETED", output: body, completedAt: new Date() },
        });
        if (step.count === 0) return { kind: "used" as const };
        const resumed = await tx.job.updateMany({
          where: { id: row.jobId, status: "WAITING" },
          data: { status: "QUEUED", wakeAt: null },
        });
        const job = await tx.job.findUniqueOrThrow({
          where: { id: row.jobId },
          select: { id: true, tenantId: true, workflow: true },
        });
        return { kind: "ok" as const, job, resumed: resumed.count > 0 };
      });

      if (outcome.kind === "unknown") throw notFound("callback");
      if (outcome.kind === "used")
        throw new HttpError(409, "callback_used", "this callback was already used");
      if (outcome.resumed) {
        try {
          await enqueueJobs(prisma, queue, registry, [
            { ...outcome.job, messageId: `${outcome.job.id}-c${Date.now()}` },
          ]);
        } catch (err) {
          req.log.warn(
            { err, jobId: outcome.job.id },
            "queue unavailable; the resumed job is left to the outbox relay",
          );
          await prisma.job.update({ where: { id: outcome.job.id }, data: { enqueuedAt: null } });
        }
      }
      res.status(202).json({ jobId: outcome.job.id, accepted: true });
    },
  );

  return router;
}
