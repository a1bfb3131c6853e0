/**
 * Creating and upgrading the Postgres driver's schema: BullMQ's own migrations (`runMigrations`
 * from `bullmq`), run into the driver's schema. BullMQ never migrates implicitly — a driver on
 * an unmigrated schema fails with BullMQ's `SchemaMigrationRequiredError` — so deployments run
 * {@link migratePostgresQueue} at start-up or in their migrate step.
 */
import { LATEST_SCHEMA_VERSION, type PgPool, type PgQueryable, runMigrations } from "bullmq";
import pg from "pg";
import { assertSchemaName, DEFAULT_POSTGRES_SCHEMA } from "./postgres-backend.js";

/** Where to migrate: a connection string, or a pool (one of its sessions is used). */
export type PostgresQueueTarget =
  | { connectionString: string; pool?: never }
  | { pool: PgPool; connectionString?: never };

/** Options of {@link migratePostgresQueue}. */
export type MigratePostgresQueueOptions = PostgresQueueTarget & {
  /** The schema to create or upgrade. Default `"zixly_queue"`. */
  schema?: string;
};

/** What {@link migratePostgresQueue} did. */
export interface PostgresQueueMigration {
  schema: string;
  /** BullMQ's schema version before the call (0: the schema did not exist). */
  from: number;
  /** The version after the call. */
  to: number;
}

async function currentVersion(client: PgQueryable, schema: string): Promise<number> {
  const { rows } = await client.query<{ exists: boolean }>(
    "SELECT to_regclass(format('%I.migration', $1::text)) IS NOT NULL AS exists",
    [schema],
  );
  if (!rows[0]?.exists) return 0;
  const version = await client.query<{ version: number }>(
    `SELECT COALESCE(MAX(version), 0)::int AS version FROM "${schema}".migration`,
  );
  return version.rows[0]?.version ?? 0;
}

/**
 * Create the queue schema or bring it up to the version this BullMQ build needs. Idempotent
 * (a schema that is current is left alone) and safe to run from several processes at once:
 * BullMQ applies all pending migrations in one transaction, serialised by a transaction-scoped
 * advisory lock per schema, so late starters wait and then find nothing to do. Needs the
 * rights to create a schema, tables, types and functions (usually the database owner).
 *
 * @example
 * ```ts
 * await migratePostgresQueue({ connectionString: process.env.DATABASE_URL! });
 * ```
 */
export async function migratePostgresQueue(
  options: MigratePostgresQueueOptions,
): Promise<PostgresQueueMigration> {
  const schema = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
  assertSchemaName(schema);
  const migrate = async (client: PgQueryable): Promise<PostgresQueueMigration> => {
    const from = await currentVersion(client, schema);
    const to = from >= LATEST_SCHEMA_VERSION ? from : await runMigrations(client, schema);
    return { schema, from, to };
  };
  if (options.pool) {
    // BullMQ needs one session for the lock and the transaction: never the pool itself.
    const client = await options.pool.connect();
    let broken = false;
    try {
      return await migrate(client);
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      client.release(broken);
    }
  }
  if (typeof options.connectionString !== "string" || options.connectionString.length === 0) {
    throw new TypeError("migratePostgresQueue: pass a connectionString or a pool");
  }
  const client = new pg.Client({ connectionString: options.connectionString });
  client.on("error", () => undefined); // reported by the failing query; unhandled it would crash
  await client.connect();
  try {
    return await migrate(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
