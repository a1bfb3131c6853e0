import type { PrismaClient } from "@zixly/db";
import type { QueueDriver } from "@zixly/queue";
import type { WorkflowRegistry } from "@zixly/workflows";
import type { Logger } from "pino";
import { enqueueJobs } from "./enqueue-jobs.js";

export interface OutboxRelayOptions {
  prisma: PrismaClient;
  queue: QueueDriver;
  registry: WorkflowRegistry;
  log: Logger;
  intervalMs: number;
  /** Jobs younger than this are left to the receiver's own enqueue. */
  graceMs?: number;
  batchSize?: number;
}

export interface OutboxRelay {
  /** One pass: enqueue accepted jobs the queue has not taken. Returns how many were handed over. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The outbox relay: a webhook is answered `202` once its jobs are committed in Postgres,
 * even if the queue was unreachable. This loop finds QUEUED jobs never handed to the queue
 * and enqueues them when the queue is back.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { prisma, queue, registry, log, intervalMs } = options;
  const graceMs = options.graceMs ?? 1_000;
  const batchSize = options.batchSize ?? 500;
  let stopped = false;
  let running: Promise<number> | undefined;

  async function pass(): Promise<number> {
    let total = 0;
    for (;;) {
      const pending = await prisma.job.findMany({
        where: { status: "QUEUED", enqueuedAt: null, createdAt: { lt: new Date(Date.now() - graceMs) } },
        select: { id: true, tenantId: true, workflow: true, updatedAt: true },
        orderBy: { createdAt: "asc" },
        take: batchSize,
      });
      if (pending.length === 0) return total;
      // A message id per pending state: the same job relayed twice while pending dedupes, and a
      // replayed job is not mistaken for its earlier, dead-lettered message.
      await enqueueJobs(
        prisma,
        queue,
        registry,
        pending.map((job) => ({ ...job, messageId: `${job.id}-o${job.updatedAt.getTime()}` })),
      );
      total += pending.length;
      log.info({ count: pending.length }, "outbox relay enqueued jobs the queue had not taken");
      if (pending.length < batchSize || stopped) return total;
    }
  }

  const runOnce = (): Promise<number> => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => {
    runOnce().catch((err: unknown) => log.warn({ err }, "outbox relay pass failed; will retry"));
  }, intervalMs);
  timer.unref();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
