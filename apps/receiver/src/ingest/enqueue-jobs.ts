import type { PrismaClient } from "@zixly/db";
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
 * Hands jobs to the queue and marks them enqueued (the outbox marker). Enqueue is
 * idempotent by job id, so a job handed over twice (relay racing the receiver) runs once.
 */
export async function enqueueJobs(
  prisma: PrismaClient,
  queue: QueueDriver,
  registry: WorkflowRegistry,
  jobs: readonly EnqueueTarget[],
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
  await prisma.job.updateMany({
    where: { id: { in: jobs.map((j) => j.id) } },
    data: { enqueuedAt: new Date() },
  });
}
