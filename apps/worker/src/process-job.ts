import type { Logger } from "@zixly/core";
import { NonRetriableError, RetryAfterError, serializeError } from "@zixly/core";
import { type Prisma, type PrismaClient, rawQueryOf } from "@zixly/db";
import type { Delivery, QueueDriver } from "@zixly/queue";
import { JOB_RECORD_NAME, RESULT_NAME, storeIfLarge } from "@zixly/storage";
import {
  decideRetry,
  isJobCancelled,
  isWorkflowSuspended,
  JOBS_QUEUE,
  type JobMessageBody,
  jobMessage,
  runWorkflow,
  type WorkflowEvent,
  type WorkflowRegistry,
} from "@zixly/workflows";
import type { ConnectorResolver } from "./connector-resolver.js";
import type { ClaimedJob, JobStateWriter } from "./job-state-writer.js";
import type { JobHints, PgStepStore, ResultOffload } from "./pg-step-store.js";

export interface JobProcessorDeps {
  prisma: PrismaClient;
  /** Claims and completions, grouped with concurrent jobs' (see `createJobStateWriter`). */
  writer: JobStateWriter;
  queue: QueueDriver;
  registry: WorkflowRegistry;
  /** Step memos for one job (Postgres; large outputs offloaded when a result store is configured). */
  storeFor: (job: { tenantId: string; createdAt: Date; hints: JobHints }) => PgStepStore;
  /** Large job results and each finished job's execution record go here (AWS mode: S3). */
  results?: ResultOffload | undefined;
  connectors: ConnectorResolver;
  log: Logger;
  retryMaxDelayMs: number;
  /** How long a claim owns a RUNNING job without a heartbeat (crash recovery horizon). */
  leaseMs: number;
  /** Base URL for `step.waitForCallback` URLs. */
  callbackBaseUrl?: string | undefined;
  /** Called once per finished attempt (metrics). */
  onAttempt?: (outcome: {
    workflow: string;
    status: "completed" | "failed" | "retrying" | "waiting" | "cancelled";
    durationMs: number;
  }) => void;
}

/** How soon a job refused by its tenant's concurrency limit is offered again. */
const TENANT_RETRY_MS = 500;

const json = (value: unknown): Prisma.InputJsonValue => value as Prisma.InputJsonValue;

/**
 * The queue handler: runs one attempt of the job a message names. Postgres is the source of
 * truth. A claim (an atomic UPDATE) takes a QUEUED or WAITING job, or a RUNNING one whose
 * lease lapsed (its worker died); any other message — a duplicate, a job already finished or
 * cancelled — is acknowledged and dropped, which is what turns at-least-once delivery into
 * one completed run per job. Retry decisions are made here (attempts in the job row, the
 * workflow's backoff with jitter) and handed to the driver as a {@link RetryAfterError} or a
 * {@link NonRetriableError}; waits re-enqueue the job with a delay and free the slot.
 */
export function createJobProcessor(
  deps: JobProcessorDeps,
): (delivery: Delivery<JobMessageBody>) => Promise<void> {
  const { prisma, registry, connectors, queue } = deps;
  const leaseInterval = `${Math.max(1, Math.round(deps.leaseMs / 1000))} seconds`;
  const query = rawQueryOf(prisma);
  const messageRef = (delivery: Delivery<JobMessageBody>) => ({
    id: delivery.body.jobId,
    tenant_id: delivery.body.tenantId,
    workflow: delivery.body.workflow,
  });

  async function enqueueLater(
    job: { id: string; tenant_id: string; workflow: string },
    id: string,
    delayMs: number,
  ) {
    const message = jobMessage(
      { id: job.id, tenantId: job.tenant_id, workflow: job.workflow },
      registry.get(job.workflow),
    );
    await queue.enqueue(JOBS_QUEUE, [{ ...message, id, delayMs: Math.max(0, delayMs) }]);
  }

  return async function processJob(delivery) {
    const jobId = delivery.body.jobId;
    const job = await deps.writer.claim(jobId);
    if (!job) {
      const [current] = await query<{ status: string; lease_expires_at: Date | null }>({
        name: "zixly_job_state",
        text: "SELECT status::text AS status, lease_expires_at FROM jobs WHERE id = $1::uuid",
        values: [jobId],
      });
      if (current?.status === "RUNNING" && current.lease_expires_at) {
        // Another worker holds the job. Look again once its lease could have lapsed (it may be
        // a crashed worker's), without spending one of the message's attempts.
        const at = current.lease_expires_at.getTime();
        await enqueueLater(messageRef(delivery), `${jobId}-l${at}`, at - Date.now() + 250);
      } else if (current?.status === "QUEUED" || current?.status === "WAITING") {
        // Runnable but refused: its tenant is at its concurrency limit. Try again shortly.
        const slot = Math.floor(Date.now() / TENANT_RETRY_MS);
        await enqueueLater(messageRef(delivery), `${jobId}-t${slot}`, TENANT_RETRY_MS);
      }
      deps.log.debug(
        { jobId, status: current?.status },
        "message for a job that is not runnable now; acknowledged",
      );
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
    const heartbeat = setInterval(
      () => {
        query({
          name: "zixly_heartbeat",
          text: "UPDATE jobs SET lease_expires_at = now() + $2::interval WHERE id = $1::uuid AND status = 'RUNNING'",
          values: [jobId, leaseInterval],
        }).catch((err: unknown) => log.warn({ err }, "lease heartbeat failed"));
      },
      Math.max(1_000, Math.floor(deps.leaseMs / 3)),
    );
    const finish = (status: "completed" | "failed" | "retrying" | "waiting" | "cancelled") =>
      deps.onAttempt?.({ workflow: job.workflow, status, durationMs: performance.now() - started });

    const store = deps.storeFor({
      tenantId: job.tenant_id,
      createdAt: job.created_at,
      hints: { hasSteps: job.has_steps, cancelRequested: job.cancel_requested },
    });

    try {
      if (!definition)
        throw new NonRetriableError(`no workflow "${job.workflow}" is registered in this worker`);
      if (event == null)
        throw new NonRetriableError("the job has no input: its inbox event was deleted before it ran");
      log.debug("job started");
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
        callbackBaseUrl: deps.callbackBaseUrl,
      });
      const stored = deps.results
        ? await storeIfLarge({
            store: deps.results.store,
            tenantId: job.tenant_id,
            jobId: job.id,
            name: RESULT_NAME,
            value: result ?? null,
            at: job.created_at,
            limitBytes: deps.results.inlineLimitBytes,
          })
        : result;
      // The last step's memo is written by the completion's own statement.
      await deps.writer.complete(job.id, stored, store.takePending());
      log.info({ durationMs: Math.round(performance.now() - started) }, "job completed");
      await writeRecord(job, log);
      finish("completed");
    } catch (thrown) {
      const err = thrown;
      // Memos of the steps that succeeded before this outcome are written first: a retry,
      // resume or replay must find them.
      await store.flush();
      if (isWorkflowSuspended(err)) {
        const wakeAt = new Date(Date.now() + err.resumeInMs);
        await prisma.job.update({
          where: { id: job.id },
          data: { status: "WAITING", wakeAt, leaseExpiresAt: null },
        });
        await enqueueLater(job, `${job.id}-w${wakeAt.getTime()}`, err.resumeInMs);
        if (err.reason === "callback") await resumeIfCallbackArrived(job, err.stepName);
        log.info({ step: err.stepName, reason: err.reason, resumeInMs: err.resumeInMs }, "job waiting");
        finish("waiting");
        return;
      }
      if (isJobCancelled(err)) {
        await prisma.job.update({
          where: { id: job.id },
          data: { status: "CANCELLED", completedAt: new Date(), leaseExpiresAt: null },
        });
        log.info({ step: err.stepName }, "job cancelled at a step boundary");
        await writeRecord(job, log);
        finish("cancelled");
        return;
      }
      const error = serializeError(err);
      const decision = decideRetry({
        error: err,
        attempt: job.attempts,
        maxAttempts: job.max_attempts,
        backoff: definition?.retries.backoff ?? { type: "exponential", delayMs: 1_000 },
        maxDelayMs: deps.retryMaxDelayMs,
      });
      if (!decision.retry) {
        await prisma.job.update({
          where: { id: job.id },
          data: {
            status: "FAILED",
            error: json({ ...error, attempts: job.attempts }),
            completedAt: new Date(),
            leaseExpiresAt: null,
          },
        });
        log.error({ err: error }, "job failed");
        await writeRecord(job, log);
        finish("failed");
        throw new NonRetriableError(error.message, { cause: err });
      }
      const { delayMs } = decision;
      await prisma.job.update({
        where: { id: job.id },
        data: {
          status: "QUEUED",
          error: json({ ...error, attempts: job.attempts, nextAttemptInMs: delayMs }),
          leaseExpiresAt: null,
        },
      });
      log.warn({ err: error, delayMs }, "job attempt failed; will retry");
      finish("retrying");
      throw new RetryAfterError(error.message, delayMs, { cause: err });
    } finally {
      clearInterval(heartbeat);
    }
  };

  /**
   * The job's full execution record (row, steps, related records) as one JSON object in the
   * result store; Postgres keeps its key. Best effort: a store outage is logged, the job's
   * outcome stands.
   */
  async function writeRecord(job: ClaimedJob, log: Logger): Promise<void> {
    if (!deps.results) return;
    try {
      const row = await prisma.job.findUniqueOrThrow({
        where: { id: job.id },
        include: { steps: { orderBy: { startedAt: "asc" } }, relatedRecords: true },
      });
      // A job made from an inbox event keeps its input there; the record carries it whole.
      const record = { ...row, input: row.input ?? job.input ?? null };
      const { key } = await deps.results.store.put(
        job.tenant_id,
        job.id,
        JOB_RECORD_NAME,
        JSON.stringify(record),
        "application/json",
        {
          at: job.created_at,
        },
      );
      await prisma.job.update({ where: { id: job.id }, data: { recordKey: key } });
    } catch (err) {
      log.warn({ err }, "could not write the job's execution record to the result store");
    }
  }

  /**
   * A callback can land between the step recording WAITING and the job being parked; the
   * callback endpoint then found the job RUNNING and left it. Catch that here.
   */
  async function resumeIfCallbackArrived(job: ClaimedJob, stepName: string): Promise<void> {
    const step = await prisma.jobStep.findUnique({
      where: { jobId_name: { jobId: job.id, name: stepName } },
    });
    if (step?.status !== "COMPLETED") return;
    const { count } = await prisma.job.updateMany({
      where: { id: job.id, status: "WAITING" },
      data: { status: "QUEUED", wakeAt: null },
    });
    if (count > 0) await enqueueLater(job, `${job.id}-c${Date.now()}`, 0);
  }
}
