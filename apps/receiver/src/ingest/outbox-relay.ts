import { type PrismaClient, rawQueryOf } from "@zixly/db";
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
  const query = rawQueryOf(prisma);
  let stopped = false;
  let running: Promise<number> | undefined;

  async function pass(): Promise<number> {
    let total = 0;
    for (;;) {
      // Per tenant through the (tenant_id, status) index: the cost follows the queued backlog,
      // not the table. (Without the tenant, Postgres walked the whole index, or all of jobs'
      // history by created_at, every interval: the jobs left un-enqueued are a handful.)
      const pending = await query<{ id: string; tenantId: string; workflow: string; updatedAt: Date }>({
        name: "zixly_outbox_pending",
        text: `SELECT j.id::text AS id, j.tenant_id::text AS "tenantId", j.workflow, j.updated_at AS "updatedAt"
                 FROM tenants t
                 CROSS JOIN LATERAL (
                   SELECT id, tenant_id, workflow, updated_at, created_at FROM jobs
                    WHERE jobs.tenant_id = t.id AND jobs.status = 'QUEUED' AND jobs.enqueued_at IS NULL
                      AND jobs.created_at < now() - $1::int * interval '1 millisecond') j
                ORDER BY j.created_at LIMIT $2::int`,
        values: [graceMs, batchSize],
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
