/**
 * The Postgres queue driver (BullMQ's PostgreSQL backend), as its own entry so that apps on
 * another backend never load `pg`, and apps on this one never need Redis.
 *
 * @example
 * ```ts
 * import { createPostgresDriver, migratePostgresQueue } from "@zixly/queue/postgres";
 * await migratePostgresQueue({ connectionString: process.env.DATABASE_URL! });
 * const queue = createPostgresDriver({ connectionString: process.env.DATABASE_URL! });
 * ```
 *
 * @module
 */
export { DEFAULT_POSTGRES_SCHEMA, PostgresSearchPathError } from "./postgres-backend.js";
export { createPostgresDriver, type PostgresDriverOptions } from "./postgres-driver.js";
export {
  type MigratePostgresQueueOptions,
  migratePostgresQueue,
  type PostgresQueueMigration,
  type PostgresQueueTarget,
} from "./postgres-migrations.js";
export {
  createPglitePool,
  type PgliteLike,
  type PglitePool,
  type PglitePoolOptions,
} from "./postgres-pglite-pool.js";
