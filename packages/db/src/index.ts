/**
 * @module @zixly/db
 *
 * Zixly's database access: the Prisma client (generated from `prisma/schema.prisma`, talking
 * to PostgreSQL through `@prisma/adapter-pg`), an offline migration runner that keeps
 * `prisma migrate deploy`'s bookkeeping, and the model types and enums. Test helpers live in
 * `@zixly/db/testing`. How migrations work: docs/database.md.
 *
 * @example
 * ```ts
 * import { createPrismaClient, ensureDatabase, JobStatus, migrate } from "@zixly/db";
 *
 * const url = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/zixly";
 * await ensureDatabase(url);
 * const { applied } = await migrate(url, { log: console.log });
 *
 * const prisma = createPrismaClient(url);
 * const queued = await prisma.job.count({ where: { status: JobStatus.QUEUED } });
 * await prisma.$disconnect();
 * ```
 */
export {
  type CreatePrismaClientOptions,
  createPrismaClient,
  type RawQuery,
  type RawStatement,
  rawQueryOf,
  sqlOf,
} from "./client.js";
export { ensureDatabase } from "./ensure-database.js";
export type {
  ApiKey,
  Connection,
  Job,
  JobStep,
  RelatedRecord,
  Tenant,
  User,
  WebhookEndpoint,
  WebhookEvent,
} from "./generated/prisma/client.js";
export {
  ConnectionStatus,
  JobStatus,
  Prisma,
  PrismaClient,
  Role,
  StepStatus,
} from "./generated/prisma/client.js";
export { type MigrateOptions, type MigrateResult, migrate } from "./migrate.js";
export { MigrationError, type MigrationErrorCode } from "./migration-error.js";
export { checksumOf, defaultMigrationsDir } from "./migrations-dir.js";
export { type ResolveAction, type ResolveOptions, resolveMigration } from "./resolve-migration.js";
export { TENANT_ROLE, type TenantTransaction, withTenant } from "./tenant-scope.js";
