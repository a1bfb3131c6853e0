import { Prisma, type PrismaClient } from "@zixly/db";
import type { StepStore } from "@zixly/workflows";

const json = (value: unknown): Prisma.InputJsonValue => value as Prisma.InputJsonValue;

/**
 * Step memos in Postgres (`job_steps`, unique per job and step name). A step's output is
 * committed before the workflow continues, so a retry after a crash finds it.
 */
export function createPgStepStore(prisma: PrismaClient): StepStore {
  return {
    async loadSteps(jobId) {
      const rows = await prisma.jobStep.findMany({
        where: { jobId },
        select: { name: true, status: true, output: true, attempt: true },
      });
      return rows.map((r) => ({ ...r, output: r.output ?? null }));
    },
    async stepStarted(jobId, name, attempt) {
      await prisma.jobStep.upsert({
        where: { jobId_name: { jobId, name } },
        create: { jobId, name, attempt, status: "RUNNING" },
        update: {
          attempt,
          status: "RUNNING",
          error: Prisma.DbNull,
          startedAt: new Date(),
          completedAt: null,
        },
      });
    },
    async stepCompleted(jobId, name, attempt, output) {
      await prisma.jobStep.update({
        where: { jobId_name: { jobId, name } },
        data: { attempt, status: "COMPLETED", output: json(output), completedAt: new Date() },
      });
    },
    async stepFailed(jobId, name, attempt, error) {
      await prisma.jobStep.update({
        where: { jobId_name: { jobId, name } },
        data: { attempt, status: "FAILED", error: json(error), completedAt: new Date() },
      });
    },
    async relate(jobId, tenantId, record) {
      await prisma.relatedRecord.createMany({ data: [{ jobId, tenantId, ...record }], skipDuplicates: true });
    },
  };
}
