import { createBatcher } from "@zixly/core";
import { type PrismaClient, rawQueryOf } from "@zixly/db";

/** A job this worker now owns (the claim's answer). */
export interface ClaimedJob {
  id: string;
  tenant_id: string;
  workflow: string;
  input: unknown;
  attempts: number;
  max_attempts: number;
  request_id: string | null;
  created_at: Date;
  has_steps: boolean;
  cancel_requested: boolean;
}

export interface CompletedStep {
  jobId: string;
  name: string;
  attempt: number;
  /** The step's output (`undefined` is stored as SQL NULL). */
  output: unknown;
  startedAt: Date;
}

/**
 * The three writes every job makes — claim, step memo, completion — with the writes of
 * concurrent jobs grouped into one statement each (group commit, see `createBatcher`): at
 * concurrency 50 a batch of jobs costs three commits instead of three per job. Each caller
 * still waits for its own row to be committed, so a memo is durable before the workflow
 * continues and a job is COMPLETED in Postgres before its message is acknowledged.
 */
export interface JobStateWriter {
  /** Takes the job if it is runnable (see the claim rules in `process-job.ts`). */
  claim(jobId: string): Promise<ClaimedJob | undefined>;
  stepCompleted(step: CompletedStep): Promise<void>;
  /** Marks the job COMPLETED, writing `steps` (memos not yet written) in the same transaction. */
  complete(jobId: string, result: unknown, steps?: readonly CompletedStep[]): Promise<void>;
}

export interface JobStateWriterOptions {
  /** How long a claim owns the job without a heartbeat. */
  leaseMs: number;
  /** Most RUNNING jobs per tenant (0 = no limit); a limit makes claims one job at a time. */
  tenantConcurrency?: number;
  /** Batches in flight per kind of write (default 2: fewer, larger batches cost fewer socket writes). */
  maxInFlight?: number;
}

/** A CTE upserting step memos from the arrays $1–$5 (see {@link stepColumns}); a statement follows it. */
const UPSERT_STEPS = `
  WITH memos AS (
    INSERT INTO job_steps (job_id, name, status, output, attempt, started_at, completed_at)
    SELECT s.job_id, s.name, 'COMPLETED', s.output::jsonb, s.attempt, s.started_at, now()
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[])
        AS s(job_id, name, output, attempt, started_at)
     ORDER BY s.job_id, s.name
    ON CONFLICT (job_id, name) DO UPDATE SET
      attempt = EXCLUDED.attempt, status = 'COMPLETED', output = EXCLUDED.output, error = NULL,
      started_at = EXCLUDED.started_at, completed_at = EXCLUDED.completed_at
  )`;

const stepColumns = (steps: readonly CompletedStep[]) =>
  [
    steps.map((s) => s.jobId),
    steps.map((s) => s.name),
    steps.map((s) => (s.output === undefined ? null : JSON.stringify(s.output))),
    steps.map((s) => s.attempt),
    steps.map((s) => s.startedAt.toISOString()),
  ] as const;

/**
 * Rows of a batch are locked in id order before they are updated. Every statement that
 * updates several job rows must take them in one order, or two of them can deadlock:
 * Postgres then stalls both for `deadlock_timeout` (1 s) and aborts one — seen as one-second
 * stalls in a sustained run (the receiver's outbox marks lock in id order too).
 */
const LOCK_IN_ORDER = `WITH locked AS (SELECT id FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)`;
const CLAIM_SET = `
  attempts = CASE WHEN status = 'WAITING' THEN attempts ELSE attempts + 1 END,
  status = 'RUNNING', started_at = COALESCE(started_at, now()), wake_at = NULL,
  lease_expires_at = now() + $2::interval, updated_at = now()`;
const RUNNABLE = `(status IN ('QUEUED', 'WAITING') OR (status = 'RUNNING' AND lease_expires_at < now()))`;
const CLAIM_RETURNING = `
  RETURNING jobs.id::text, tenant_id::text, workflow,
            COALESCE(input, (SELECT payload FROM webhook_events WHERE webhook_events.id = jobs.event_id)) AS input,
            attempts, max_attempts, request_id, created_at,
            EXISTS (SELECT 1 FROM job_steps WHERE job_steps.job_id = jobs.id) AS has_steps,
            cancel_requested_at IS NOT NULL AS cancel_requested`;

export function createJobStateWriter(prisma: PrismaClient, options: JobStateWriterOptions): JobStateWriter {
  const lease = `${Math.max(1, Math.round(options.leaseMs / 1000))} seconds`;
  const tenantLimit = options.tenantConcurrency ?? 0;
  const maxInFlight = options.maxInFlight ?? 2;
  // Straight on the pool, as prepared statements: these run for every job.
  const query = rawQueryOf(prisma);

  const claims = createBatcher<string, ClaimedJob | undefined>({
    // With a tenant limit every claim must see the ones before it committed, or a batch of
    // one tenant's jobs would all pass the count together: one claim at a time per worker
    // (workers racing each other can still overshoot by one each).
    maxInFlight: tenantLimit > 0 ? 1 : maxInFlight,
    maxBatch: tenantLimit > 0 ? 1 : 100,
    run: async (ids) => {
      const rows =
        tenantLimit > 0
          ? await query<ClaimedJob>({
              name: "zixly_claim_tenant_limited",
              text: `${LOCK_IN_ORDER} UPDATE jobs SET ${CLAIM_SET} FROM locked
                WHERE jobs.id = locked.id AND ${RUNNABLE}
                  AND (SELECT count(*) FROM jobs running
                        WHERE running.tenant_id = jobs.tenant_id AND running.status = 'RUNNING'
                          AND running.lease_expires_at > now()) < $3::int
               ${CLAIM_RETURNING}`,
              values: [ids, lease, tenantLimit],
            })
          : await query<ClaimedJob>({
              name: "zixly_claim",
              text: `${LOCK_IN_ORDER} UPDATE jobs SET ${CLAIM_SET} FROM locked
                WHERE jobs.id = locked.id AND ${RUNNABLE} ${CLAIM_RETURNING}`,
              values: [ids, lease],
            });
      const byId = new Map(rows.map((row) => [row.id, row]));
      // Two messages for one job in one batch: the row goes to the first, the other finds the
      // job taken (as it would have a moment later).
      return ids.map((id) => {
        const row = byId.get(id);
        byId.delete(id);
        return row;
      });
    },
  });

  const steps = createBatcher<CompletedStep, void>({
    maxInFlight,
    run: async (items) => {
      await query({ name: "zixly_step_memos", text: `${UPSERT_STEPS} SELECT 1`, values: stepColumns(items) });
      return items.map(() => undefined);
    },
  });

  const completions = createBatcher<{ jobId: string; result: string; steps: readonly CompletedStep[] }, void>(
    {
      maxInFlight,
      run: async (items) => {
        // The last steps' memos and the completion in one statement, so one transaction: a job
        // is never COMPLETED without its memos, nor do the memos cost a round trip of their own.
        await query({
          name: "zixly_complete",
          text: `${UPSERT_STEPS}, locked AS (SELECT id FROM jobs WHERE id = ANY($6::uuid[]) ORDER BY id FOR UPDATE)
         UPDATE jobs SET status = 'COMPLETED', result = v.result::jsonb, error = NULL,
                completed_at = now(), lease_expires_at = NULL, updated_at = now()
           FROM unnest($6::uuid[], $7::text[]) AS v(id, result) JOIN locked ON locked.id = v.id
          WHERE jobs.id = v.id`,
          values: [
            ...stepColumns(items.flatMap((c) => c.steps)),
            items.map((c) => c.jobId),
            items.map((c) => c.result),
          ],
        });
        return items.map(() => undefined);
      },
    },
  );

  return {
    claim: (jobId) => claims.add(jobId),
    stepCompleted: (step) => steps.add(step),
    complete: (jobId, result, steps = []) =>
      completions.add({ jobId, result: JSON.stringify(result ?? null), steps }),
  };
}
