import { createBatcher } from "@zixly/core";
import { type PrismaClient, rawQueryOf } from "@zixly/db";
import type { QueueDriver } from "@zixly/queue";
import { JOBS_QUEUE, jobMessage, type WorkflowRegistry } from "@zixly/workflows";

export interface EnqueueTarget {
  id: string;
  tenantId: string;
  workflow: string;
  /** Queue message id; the job id by default. */
  messageId?: string;
  /** Fair-queueing position (see `NewJob.priority`). */
  priority?: number;
}

/**
 * Hands jobs to the queue and marks them enqueued (the outbox marker). A job handed over
 * twice (the relay racing the receiver, under different message ids) still runs once: the
 * worker's claim in Postgres refuses the second delivery.
 */
export async function enqueueJobs(
  prisma: PrismaClient,
  queue: QueueDriver,
  registry: WorkflowRegistry,
  jobs: readonly EnqueueTarget[],
  marker?: EnqueuedMarker,
): Promise<void> {
  if (jobs.length === 0) return;
  await queue.enqueue(
    JOBS_QUEUE,
    jobs.map((job) => ({
      ...jobMessage(job, registry.get(job.workflow)),
      id: job.messageId ?? job.id,
      ...(job.priority !== undefined ? { priority: job.priority } : {}),
    })),
  );
  if (marker) marker.mark(jobs.map((j) => j.id));
  else
    await markEnqueued(
      prisma,
      jobs.map((j) => j.id),
    );
}

/**
 * The rows are locked in id order first, as every statement that updates several job rows
 * does (the worker's batched claims and completions too): taken in different orders, marks
 * and claims deadlocked under load, and Postgres breaks a deadlock only after
 * `deadlock_timeout` (1 s), a one-second stall of both.
 */
const markEnqueued = (prisma: PrismaClient, ids: readonly string[]) =>
  rawQueryOf(prisma)({
    name: "zixly_mark_enqueued",
    text: `WITH locked AS (SELECT id FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)
     UPDATE jobs SET enqueued_at = now() FROM locked WHERE jobs.id = locked.id`,
    values: [ids],
  });

/** Records "the queue has these jobs" in batches, off the request path. */
export interface EnqueuedMarker {
  mark(ids: readonly string[]): void;
  /** Writes what is pending (shutdown). */
  flush(): Promise<void>;
}

/**
 * The outbox marker for the webhook hot path: one UPDATE per `flushMs` for every job enqueued
 * meanwhile, instead of one commit per request. Losing a batch (crash) is harmless: the relay
 * enqueues those jobs again, and the worker's claim drops the duplicate delivery.
 */
export function createEnqueuedMarker(
  prisma: PrismaClient,
  log: { warn(o: object, m: string): void },
  flushMs = 25,
): EnqueuedMarker {
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    timer = undefined;
    const ids = pending;
    pending = [];
    if (ids.length === 0) return;
    await markEnqueued(prisma, ids).catch((err: unknown) =>
      log.warn({ err, count: ids.length }, "could not mark jobs enqueued; the relay will re-offer them"),
    );
  };
  return {
    mark(ids) {
      pending.push(...ids);
      timer ??= setTimeout(() => void flush(), flushMs);
    },
    async flush() {
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}

/**
 * `enqueueJobs` for the webhook hot path: the jobs of concurrent deliveries go to the queue in
 * one call (one Redis pipeline, one SQS batch request) instead of one per request.
 */
export function createJobEnqueuer(
  prisma: PrismaClient,
  queue: QueueDriver,
  registry: WorkflowRegistry,
  marker: EnqueuedMarker,
): (jobs: readonly EnqueueTarget[]) => Promise<void> {
  const batcher = createBatcher<readonly EnqueueTarget[], void>({
    maxBatch: 100,
    maxInFlight: 2,
    run: async (batches) => {
      await enqueueJobs(prisma, queue, registry, batches.flat(), marker);
      return batches.map(() => undefined);
    },
  });
  return (jobs) => (jobs.length === 0 ? Promise.resolve() : batcher.add(jobs));
}
