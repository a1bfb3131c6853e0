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
 * Hands jobs to the queue and marks them enqueued (the outbox marker). A job handed over
 * twice (the relay racing the receiver, under different message ids) still runs once: the
 * worker's claim in Postgres refuses the second delivery.
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
