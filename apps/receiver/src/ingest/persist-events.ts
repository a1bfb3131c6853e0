import { randomUUID } from "node:crypto";
import type { Prisma, PrismaClient } from "@zixly/db";
import type { WorkflowEvent, WorkflowRegistry } from "@zixly/workflows";
import { storableDate } from "./storable.js";

export interface AcceptedEndpoint {
  id: string;
  tenantId: string;
  source: string;
}

export interface NewJob {
  id: string;
  tenantId: string;
  workflow: string;
  /**
   * Fair-queueing position: the tenant's backlog when the job was created (1 = none ahead).
   * A tenant with 2,000 jobs queued gets positions in the thousands; another tenant's first job
   * gets 1 and overtakes them, so one burst cannot starve the others.
   */
  priority: number;
}

export interface PersistResult {
  /** Ids of every event in the delivery, new or seen before, in delivery order. */
  eventIds: string[];
  /** Ids of every job those events have. */
  jobIds: string[];
  /** Jobs created by this delivery: the caller enqueues them. */
  newJobs: NewJob[];
  /** True when every event had been accepted before (the answer is then `200`, not `202`). */
  duplicate: boolean;
}

/**
 * Writes the inbox rows and one job row per matching workflow in ONE transaction, so an
 * event is never stored without its jobs. Events seen before (same endpoint and key) are
 * skipped by the unique index — concurrent deliveries of one event create it once — and
 * their existing ids are returned instead.
 */
export async function persistEvents(
  prisma: PrismaClient,
  registry: WorkflowRegistry,
  endpoint: AcceptedEndpoint,
  events: readonly WorkflowEvent[],
  requestId: string,
): Promise<PersistResult> {
  const unique = dedupeWithinDelivery(events);
  const rows = unique.map((event) => ({
    id: randomUUID(),
    tenantId: endpoint.tenantId,
    endpointId: endpoint.id,
    source: endpoint.source,
    eventType: event.type,
    dedupeKey: event.id,
    payload: event as unknown as Prisma.InputJsonValue,
    requestId,
    occurredAt: storableDate(event.occurredAt),
  }));

  return prisma.$transaction(async (tx) => {
    const inserted = await tx.webhookEvent.createManyAndReturn({
      data: rows,
      skipDuplicates: true,
      select: { id: true, dedupeKey: true },
    });
    const insertedKeys = new Set(inserted.map((r) => r.dedupeKey));

    // The tenant's backlog (jobs queued, not yet run) orders its new jobs behind its own, not
    // behind other tenants'. Read inside the transaction; concurrent deliveries may share a
    // position, which only makes ordering between them arbitrary.
    const [backlog] = await tx.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM jobs WHERE tenant_id = ${endpoint.tenantId}::uuid AND status = 'QUEUED'`;
    let position = Number(backlog?.n ?? 0);
    const newJobs: (NewJob & { eventId: string })[] = [];
    const jobRows: Prisma.JobCreateManyInput[] = [];
    for (const [index, event] of unique.entries()) {
      const row = rows[index];
      if (!row || !insertedKeys.has(event.id)) continue;
      for (const workflow of registry.match(event)) {
        const job = { id: randomUUID(), tenantId: endpoint.tenantId, workflow: workflow.id, eventId: row.id };
        newJobs.push({ ...job, priority: ++position });
        jobRows.push({
          ...job,
          input: event as unknown as Prisma.InputJsonValue,
          maxAttempts: workflow.retries.attempts,
          requestId,
        });
      }
    }
    if (jobRows.length > 0) await tx.job.createMany({ data: jobRows });

    const seenKeys = unique.map((e) => e.id).filter((key) => !insertedKeys.has(key));
    const seen =
      seenKeys.length === 0
        ? []
        : await tx.webhookEvent.findMany({
            where: { endpointId: endpoint.id, dedupeKey: { in: seenKeys } },
            select: {
              id: true,
              dedupeKey: true,
              jobs: { select: { id: true }, orderBy: { createdAt: "asc" } },
            },
          });

    const idByKey = new Map<string, string>();
    const jobIdsByKey = new Map<string, string[]>();
    for (const row of rows) if (insertedKeys.has(row.dedupeKey)) idByKey.set(row.dedupeKey, row.id);
    for (const job of newJobs) {
      const key = rows.find((r) => r.id === job.eventId)?.dedupeKey;
      if (key) jobIdsByKey.set(key, [...(jobIdsByKey.get(key) ?? []), job.id]);
    }
    for (const s of seen) {
      idByKey.set(s.dedupeKey, s.id);
      jobIdsByKey.set(
        s.dedupeKey,
        s.jobs.map((j) => j.id),
      );
    }

    return {
      eventIds: unique.map((e) => idByKey.get(e.id)).filter((id): id is string => id !== undefined),
      jobIds: unique.flatMap((e) => jobIdsByKey.get(e.id) ?? []),
      newJobs: newJobs.map(({ id, tenantId, workflow, priority }) => ({ id, tenantId, workflow, priority })),
      duplicate: inserted.length === 0,
    };
  });
}

/** A sender may repeat an event inside one batch; keep its first occurrence. */
function dedupeWithinDelivery(events: readonly WorkflowEvent[]): WorkflowEvent[] {
  const byId = new Map<string, WorkflowEvent>();
  for (const event of events) if (!byId.has(event.id)) byId.set(event.id, event);
  return [...byId.values()];
}
