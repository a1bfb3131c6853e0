import type { Logger } from "@zixly/core";
import {
  isNonRetriableError,
  NonRetriableError,
  RetryAfterError,
  retryAfterMsOf,
  serializeError,
} from "@zixly/core";
import { Prisma, type PrismaClient } from "@zixly/db";
import type { Delivery } from "@zixly/queue";
import {
  type JobMessageBody,
  runWorkflow,
  type StepStore,
  type WorkflowEvent,
  type WorkflowRegistry,
} from "@zixly/workflows";
import { backoffDelayMs } from "./backoff.js";
import type { ConnectorResolver } from "./connector-resolver.js";

export interface JobProcessorDeps {
  prisma: PrismaClient;
  registry: WorkflowRegistry;
  store: StepStore;
  connectors: ConnectorResolver;
  log: Logger;
  retryMaxDelayMs: number;
  /** Called once per finished attempt (metrics). */
  onAttempt?: (outcome: {
    workflow: string;
    status: "completed" | "failed" | "retrying";
    durationMs: number;
  }) => void;
}

interface ClaimedJob {
  id: string;
  tenant_id: string;
  workflow: string;
  input: unknown;
  attempts: number;
  max_attempts: number;
  request_id: string | null;
}

const json = (value: unknown): Prisma.InputJsonValue => value as Prisma.InputJsonValue;

/**
 * The queue handler: runs one attempt of the job a message names. Postgres is the source of
 * truth — a message for a job that is already finished or cancelled is acknowledged and
 * dropped, which is what makes at-least-once delivery run each job to completion once.
 * Retry decisions are made here (attempt count in the job row, the workflow's backoff) and
 * handed to the driver as a {@link RetryAfterError} or a {@link NonRetriableError}.
 */
export function createJobProcessor(
  deps: JobProcessorDeps,
): (delivery: Delivery<JobMessageBody>) => Promise<void> {
  const { prisma, registry, store, connectors } = deps;

  return async function processJob(delivery) {
    const jobId = delivery.body.jobId;
    // Atomic claim: counts the attempt and refuses jobs that are finished or cancelled.
    const [job] = await prisma.$queryRaw<ClaimedJob[]>`
      UPDATE jobs SET status = 'RUNNING', attempts = attempts + 1,
             started_at = COALESCE(started_at, now()), updated_at = now()
       WHERE id = ${jobId}::uuid AND status IN ('QUEUED', 'RUNNING')
      RETURNING id, tenant_id, workflow, input, attempts, max_attempts, request_id`;
    if (!job) {
      deps.log.debug({ jobId }, "message for a job that is not runnable; acknowledged");
      return;
    }

    const log = deps.log.child({
      jobId,
      workflow: job.workflow,
      tenantId: job.tenant_id,
      requestId: job.request_id ?? undefined,
      attempt: job.attempts,
    });
    const started = performance.now();
    const definition = registry.get(job.workflow);
    const event = job.input as WorkflowEvent;

    try {
      if (!definition)
        throw new NonRetriableError(`no workflow "${job.workflow}" is registered in this worker`);
      log.info("job started");
      const result = await runWorkflow({
        definition,
        job: { id: job.id, tenantId: job.tenant_id, attempt: job.attempts },
        event,
        store,
        connectors: connectors.forJob(
          job.tenant_id,
          event.accountId ? { [event.source]: event.accountId } : {},
        ),
        log,
      });
      await prisma.job.update({
        where: { id: job.id },
        data: {
          status: "COMPLETED",
          result: json(result ?? null),
          error: Prisma.DbNull,
          completedAt: new Date(),
        },
      });
      const durationMs = performance.now() - started;
      log.info({ durationMs: Math.round(durationMs) }, "job completed");
      deps.onAttempt?.({ workflow: job.workflow, status: "completed", durationMs });
    } catch (err) {
      const durationMs = performance.now() - started;
      const error = serializeError(err);
      const final = isNonRetriableError(err) || job.attempts >= job.max_attempts;
      if (final) {
        await prisma.job.update({
          where: { id: job.id },
          data: {
            status: "FAILED",
            error: json({ ...error, attempts: job.attempts }),
            completedAt: new Date(),
          },
        });
        log.error({ err: error }, "job failed");
        deps.onAttempt?.({ workflow: job.workflow, status: "failed", durationMs });
        throw new NonRetriableError(error.message, { cause: err });
      }
      const delayMs =
        retryAfterMsOf(err) ??
        backoffDelayMs(
          definition?.retries.backoff ?? { type: "exponential", delayMs: 1_000 },
          job.attempts,
          deps.retryMaxDelayMs,
        );
      await prisma.job.update({
        where: { id: job.id },
        data: {
          status: "QUEUED",
          error: json({ ...error, attempts: job.attempts, nextAttemptInMs: delayMs }),
        },
      });
      log.warn({ err: error, delayMs }, "job attempt failed; will retry");
      deps.onAttempt?.({ workflow: job.workflow, status: "retrying", durationMs });
      throw new RetryAfterError(error.message, delayMs, { cause: err });
    }
  };
}
