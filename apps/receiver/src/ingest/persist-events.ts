import { randomUUID } from "node:crypto";
import type { PrismaClient } from "@zixly/db";
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
  const eventRows = unique.map((event) => ({
    id: randomUUID(),
    dedupe_key: event.id,
    event_type: event.type,
    payload: event,
    occurred_at: storableDate(event.occurredAt)?.toISOString() ?? null,
  }));
  const jobRows = unique.flatMap((event, index) =>
    registry.match(event).map((workflow) => ({
      id: randomUUID(),
      event_id: eventRows[index]!.id,
      workflow: workflow.id,
      max_attempts: workflow.retries.attempts,
    })),
  );

  // ONE statement, so one implicit transaction and one round trip: events are inserted unless
  // already in the inbox (the unique index makes concurrent deliveries of one event wait for
  // each other), and jobs only for the events this statement inserted. The tenant's backlog
  // is read from the snapshot before the inserts (fair-queueing position).
  const [outcome] = await prisma.$queryRawUnsafe<
    Array<{ inserted_events: string[] | null; inserted_jobs: string[] | null; backlog: bigint }>
  >(
    `WITH input_events AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS e(id uuid, dedupe_key text, event_type text, payload jsonb, occurred_at timestamptz)
     ), ins AS (
       INSERT INTO webhook_events (id, tenant_id, endpoint_id, source, event_type, dedupe_key, payload, request_id, occurred_at)
       SELECT e.id, $2::uuid, $3::uuid, $4, e.event_type, e.dedupe_key, e.payload, $5, e.occurred_at FROM input_events e
       ON CONFLICT (endpoint_id, dedupe_key) DO NOTHING
       RETURNING id
     ), input_jobs AS (
       SELECT * FROM jsonb_to_recordset($6::jsonb) AS j(id uuid, event_id uuid, workflow text, max_attempts int)
     ), jb AS (
       INSERT INTO jobs (id, tenant_id, event_id, workflow, input, max_attempts, request_id)
       SELECT j.id, $2::uuid, j.event_id, j.workflow, e.payload, j.max_attempts, $5
         FROM input_jobs j JOIN ins ON ins.id = j.event_id JOIN input_events e ON e.id = j.event_id
       RETURNING id
     )
     SELECT (SELECT array_agg(id::text) FROM ins) AS inserted_events,
            (SELECT array_agg(id::text) FROM jb) AS inserted_jobs,
            -- Capped: beyond 10,000 queued jobs a tenant is "far behind" either way, and the
            -- count must not grow with its backlog.
            (SELECT count(*) FROM (SELECT 1 FROM jobs WHERE tenant_id = $2::uuid AND status = 'QUEUED' LIMIT 10000) q) AS backlog`,
    JSON.stringify(eventRows),
    endpoint.tenantId,
    endpoint.id,
    endpoint.source,
    requestId,
    JSON.stringify(jobRows),
  );
  const insertedEvents = new Set(outcome?.inserted_events ?? []);
  const insertedJobs = new Set(outcome?.inserted_jobs ?? []);
  let position = Number(outcome?.backlog ?? 0);

  const newJobs: NewJob[] = jobRows
    .filter((j) => insertedJobs.has(j.id))
    .map((j) => ({ id: j.id, tenantId: endpoint.tenantId, workflow: j.workflow, priority: ++position }));

  // Events seen before: answer with their original ids (and their jobs').
  const seenKeys = eventRows.filter((e) => !insertedEvents.has(e.id)).map((e) => e.dedupe_key);
  const seen =
    seenKeys.length === 0
      ? []
      : await prisma.$queryRawUnsafe<Array<{ id: string; dedupe_key: string; job_ids: string[] }>>(
          `SELECT e.id::text, e.dedupe_key,
                  COALESCE(array_agg(j.id::text ORDER BY j.created_at, j.id) FILTER (WHERE j.id IS NOT NULL), '{}') AS job_ids
             FROM webhook_events e LEFT JOIN jobs j ON j.event_id = e.id
            WHERE e.endpoint_id = $1::uuid AND e.dedupe_key = ANY($2::text[])
            GROUP BY e.id`,
          endpoint.id,
          seenKeys,
        );
  const seenByKey = new Map(seen.map((s) => [s.dedupe_key, s]));

  const eventIds: string[] = [];
  const jobIds: string[] = [];
  for (const row of eventRows) {
    if (insertedEvents.has(row.id)) {
      eventIds.push(row.id);
      for (const job of jobRows) if (job.event_id === row.id) jobIds.push(job.id);
    } else {
      const previous = seenByKey.get(row.dedupe_key);
      if (!previous) continue;
      eventIds.push(previous.id);
      jobIds.push(...previous.job_ids);
    }
  }
  return { eventIds, jobIds, newJobs, duplicate: insertedEvents.size === 0 };
}

/** A sender may repeat an event inside one batch; keep its first occurrence. */
function dedupeWithinDelivery(events: readonly WorkflowEvent[]): WorkflowEvent[] {
  const byId = new Map<string, WorkflowEvent>();
  for (const event of events) if (!byId.has(event.id)) byId.set(event.id, event);
  return [...byId.values()];
}
