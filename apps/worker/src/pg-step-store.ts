import { randomToken, sha256Hex } from "@zixly/core";
import { Prisma, type PrismaClient, rawQueryOf } from "@zixly/db";
import { isResultRef, type ResultStore, stepOutputName, storeIfLarge } from "@zixly/storage";
import type { StepStore } from "@zixly/workflows";
import type { CompletedStep, JobStateWriter } from "./job-state-writer.js";

const json = (value: unknown): Prisma.InputJsonValue => value as Prisma.InputJsonValue;

/** Where large results go (AWS mode: S3), and above which size. */
export interface ResultOffload {
  store: ResultStore;
  inlineLimitBytes?: number;
}

/** The job a step store serves, for result offloading (keys are per tenant and job). */
export interface StepOffload {
  results: ResultOffload;
  tenantId: string;
  jobCreatedAt: Date;
}

/** What the worker's claim already told it about the job, to spare queries on the hot path. */
export interface JobHints {
  /** False when the job has no step rows yet (a first run): loading the memo needs no query. */
  hasSteps: boolean;
  /** Whether a cancel was requested at claim time. */
  cancelRequested: boolean;
}

export interface PgStepStoreOptions {
  offload?: StepOffload | undefined;
  hints?: JobHints | undefined;
  /**
   * Writes completed steps together with other jobs' (group commit); one upsert each without.
   * With a writer, a completed step's memo is held until the store is next used (the next
   * step's boundary, a wait, a failure) or handed to the job's completion, which writes it in
   * the same statement: see {@link PgStepStore}.
   */
  writer?: JobStateWriter | undefined;
}

/**
 * A step store whose memos may be pending. The memo of a step is written before anything
 * else the workflow does through the store — in particular before the next step starts — so
 * a memo is durable before any later step's side effect, as without deferral. The worker
 * passes the memos still pending at the end to the completion (`takePending`), or writes them
 * (`flush`) before recording any other outcome.
 */
export interface PgStepStore extends StepStore {
  /** Writes the pending memos. */
  flush(): Promise<void>;
  /** The pending memos, now the caller's to write. */
  takePending(): CompletedStep[];
}

/**
 * Step memos in Postgres (`job_steps`, unique per job and step name). A step's output is
 * committed before the workflow continues, so a retry after a crash finds it.
 */
export function createPgStepStore(prisma: PrismaClient, options: PgStepStoreOptions = {}): PgStepStore {
  const { offload, hints, writer } = options;
  // Reads and writes that run for most jobs go straight on the pool (see `rawQueryOf`).
  const query = rawQueryOf(prisma);
  let pending: CompletedStep[] = [];
  const flush = async () => {
    if (pending.length === 0 || !writer) return;
    const memos = pending;
    pending = [];
    await Promise.all(memos.map((memo) => writer.stepCompleted(memo)));
  };
  // Steps started in this run: the start time is written with the step's outcome, one write
  // per step instead of two (a step cut off by a crash leaves no row, and simply runs again).
  const startedAt = new Map<string, Date>();
  // The claim read the cancel flag: the first step boundary uses that answer, later ones ask.
  let claimAnswer: boolean | undefined = hints?.cancelRequested;
  /** Large outputs go to the result store; Postgres keeps the reference. */
  const stored = (jobId: string, name: string, output: unknown) =>
    offload
      ? storeIfLarge({
          store: offload.results.store,
          tenantId: offload.tenantId,
          jobId,
          name: stepOutputName(name),
          value: output,
          at: offload.jobCreatedAt,
          limitBytes: offload.results.inlineLimitBytes,
        })
      : Promise.resolve(output);
  const resolved = async (output: unknown) => {
    if (!offload || !isResultRef(output)) return output;
    const object = await offload.results.store.get(offload.tenantId, output.key);
    if (!object) throw new Error(`a memoised step output is missing from the result store (${output.key})`);
    return JSON.parse(object.body.toString("utf8")) as unknown;
  };
  return {
    flush,
    takePending() {
      const memos = pending;
      pending = [];
      return memos;
    },
    async loadSteps(jobId) {
      await flush();
      if (hints && !hints.hasSteps) return [];
      const rows = await query<{
        name: string;
        status: "RUNNING" | "WAITING" | "COMPLETED" | "FAILED";
        output: unknown;
        attempt: number;
      }>({
        name: "zixly_job_steps",
        text: "SELECT name, status::text AS status, output, attempt FROM job_steps WHERE job_id = $1::uuid",
        values: [jobId],
      });
      return Promise.all(
        rows.map(async (r) => ({
          ...r,
          output: r.status === "COMPLETED" ? await resolved(r.output ?? null) : (r.output ?? null),
        })),
      );
    },
    async stepStarted(_jobId, name) {
      await flush();
      startedAt.set(name, new Date());
    },
    async stepCompleted(jobId, name, attempt, value) {
      const output = await stored(jobId, name, value);
      const started = startedAt.get(name) ?? new Date();
      if (writer) {
        pending.push({ jobId, name, attempt, output, startedAt: started });
        return;
      }
      await prisma.jobStep.upsert({
        where: { jobId_name: { jobId, name } },
        create: {
          jobId,
          name,
          attempt,
          status: "COMPLETED",
          output: json(output),
          startedAt: started,
          completedAt: new Date(),
        },
        update: {
          attempt,
          status: "COMPLETED",
          output: json(output),
          error: Prisma.DbNull,
          startedAt: started,
          completedAt: new Date(),
        },
      });
    },
    async stepFailed(jobId, name, attempt, error) {
      await flush();
      await prisma.jobStep.upsert({
        where: { jobId_name: { jobId, name } },
        create: {
          jobId,
          name,
          attempt,
          status: "FAILED",
          error: json(error),
          startedAt: startedAt.get(name) ?? new Date(),
          completedAt: new Date(),
        },
        update: {
          attempt,
          status: "FAILED",
          error: json(error),
          startedAt: startedAt.get(name) ?? new Date(),
          completedAt: new Date(),
        },
      });
    },
    async stepWaiting(jobId, name, attempt, state) {
      await flush();
      await prisma.jobStep.upsert({
        where: { jobId_name: { jobId, name } },
        create: { jobId, name, attempt, status: "WAITING", output: json(state) },
        update: { attempt, status: "WAITING", output: json(state), error: Prisma.DbNull, completedAt: null },
      });
    },
    async callbackNotified(jobId, name, state) {
      await flush();
      // Only a still-WAITING step is updated: a callback that won the race has completed it.
      const { count } = await prisma.jobStep.updateMany({
        where: { jobId, name, status: "WAITING" },
        data: { output: json(state) },
      });
      if (count > 0) return { completed: false };
      const step = await prisma.jobStep.findUnique({ where: { jobId_name: { jobId, name } } });
      return step?.status === "COMPLETED" ? { completed: true, output: step.output } : { completed: false };
    },
    async createCallbackToken(jobId, tenantId, name, expiresAt) {
      await flush();
      const token = randomToken(32);
      await prisma.$transaction([
        prisma.callbackToken.deleteMany({ where: { jobId, stepName: name } }),
        prisma.callbackToken.create({
          data: { tokenHash: sha256Hex(token), tenantId, jobId, stepName: name, expiresAt },
        }),
      ]);
      return token;
    },
    async isCancelRequested(jobId) {
      await flush();
      if (claimAnswer !== undefined) {
        const answer = claimAnswer;
        claimAnswer = undefined;
        return answer;
      }
      const [job] = await query<{ requested: boolean }>({
        name: "zixly_job_cancel_requested",
        text: "SELECT cancel_requested_at IS NOT NULL AS requested FROM jobs WHERE id = $1::uuid",
        values: [jobId],
      });
      return job?.requested === true;
    },
    async relate(jobId, tenantId, record) {
      await flush();
      await query({
        name: "zixly_relate",
        text: `INSERT INTO related_records (id, job_id, tenant_id, system, record_type, record_id, action)
               VALUES (gen_random_uuid(), $1::uuid, $2::uuid, $3, $4, $5, $6)
               ON CONFLICT (job_id, system, record_type, record_id, action) DO NOTHING`,
        values: [jobId, tenantId, record.system, record.recordType, record.recordId, record.action],
      });
    },
  };
}
