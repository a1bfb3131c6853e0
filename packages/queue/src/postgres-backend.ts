/**
 * How the Postgres driver plugs into BullMQ's own PostgreSQL backend (`createPostgresBackend`
 * in `bullmq`). BullMQ's factory is used as-is apart from three things this module changes, all
 * by subclassing BullMQ's public classes:
 *
 * - **Schema of a pool we pass.** BullMQ only honours a custom schema when it builds the pool
 *   itself (from a config object, through `require("pg")`); for a `pg.Pool` it always checks the
 *   default `bullmq` schema. Here the pool is always ours (or the caller's), so the connection is
 *   pinned to the driver's schema, and the pool's `search_path` is checked to point at it.
 * - **Readiness that recovers.** BullMQ memoises the first readiness check of a connection and
 *   of a backend, including a failed one: a Worker started while Postgres was down would fail
 *   every later operation. Here a failed check is forgotten, so the next operation tries again.
 * - **One error listener per pool.** BullMQ adds an `error` listener to the pool for every
 *   connection object (one per Queue/Worker) and never removes it from a pool it does not own;
 *   the driver hands each connection a thin view of the pool instead and listens once itself.
 */
import {
  assertSchemaCompatibility,
  type BackendFactory,
  type PgPool,
  type PgPoolClient,
  type PgQueryResult,
  PostgresConnection,
  PostgresQueueBackend,
  type QueueBaseOptions,
} from "bullmq";

/** The schema the driver's tables and functions live in unless told otherwise. */
export const DEFAULT_POSTGRES_SCHEMA = "zixly_queue";

/** Largest identifier PostgreSQL keeps (longer ones are truncated, silently). */
const MAX_IDENTIFIER_BYTES = 63;

/**
 * Throws unless `schema` is a plain, unquoted-safe identifier (what BullMQ accepts:
 * letter or `_` first, then letters, digits, `_`, `$`; at most 63 bytes).
 */
export function assertSchemaName(schema: string): void {
  if (
    typeof schema !== "string" ||
    !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(schema) ||
    Buffer.byteLength(schema) > MAX_IDENTIFIER_BYTES
  ) {
    throw new TypeError(
      `postgres queue: schema ${JSON.stringify(schema)} must be a plain identifier (letters, digits, _ and $; not starting with a digit; ≤ 63 bytes)`,
    );
  }
}

/** The pool option that makes every connection of a pool resolve unqualified names in `schema`. */
export function searchPathOption(schema: string): string {
  assertSchemaName(schema);
  return `-c search_path="${schema}"`;
}

/** Thrown when a pool's `search_path` does not lead to the queue's schema. */
export class PostgresSearchPathError extends Error {
  override readonly name = "PostgresSearchPathError";
}

/**
 * The `pg.Pool` surface BullMQ uses, delegating to a shared pool. `end()` and the event methods
 * are no-ops: the driver owns the pool's lifecycle and its `error` events.
 */
export function poolView(pool: PgPool, keepAlive: boolean): PgPool {
  const view = {
    // Read by BullMQ to decide whether a checked-out LISTEN client has TCP keepalive.
    options: { keepAlive },
    query: <R>(text: string, params?: readonly unknown[]): Promise<PgQueryResult<R>> =>
      pool.query<R>(text, params),
    connect: (): Promise<PgPoolClient> => pool.connect(),
    end: async (): Promise<void> => undefined,
    on: () => view,
    removeAllListeners: () => view,
  };
  return view as unknown as PgPool;
}

/** A BullMQ connection on a pool it does not own, pinned to `schema`, whose readiness recovers. */
class SchemaConnection extends PostgresConnection {
  declare readonly schema: string;
  #ready: Promise<void> | undefined;

  constructor(pool: PgPool, schema: string) {
    super(pool);
    Object.defineProperty(this, "schema", { value: schema, enumerable: true });
  }

  override waitUntilReady(): Promise<void> {
    this.#ready ??= this.#check().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async #check(): Promise<void> {
    const client = await this.pool.connect();
    let failed = false;
    try {
      await assertSchemaCompatibility(client, this.schema);
      const { rows } = await client.query<{ schema: string | null }>("SELECT current_schema() AS schema");
      if (rows[0]?.schema !== this.schema) {
        throw new PostgresSearchPathError(
          `postgres queue: the pool's search_path resolves to ${JSON.stringify(rows[0]?.schema ?? null)}, not the queue schema ${JSON.stringify(this.schema)}; create the pool with options: '${searchPathOption(this.schema)}'`,
        );
      }
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // A session that failed may be broken (Postgres restarting): drop it rather than reuse it.
      client.release(failed);
    }
    // Like BullMQ: deferred, so listeners attached right after construction still see it.
    setTimeout(() => this.emit("ready"), 0);
  }
}

/** BullMQ's backend, with a readiness that is retried after a failure instead of cached. */
class RecoveringBackend extends PostgresQueueBackend {
  readonly #listenClientName: string | undefined;
  #ready: Promise<void> | undefined;

  constructor(
    connection: PostgresConnection,
    queueName: string,
    opts: QueueBaseOptions<PgPool>,
    listenClientName: string | undefined,
  ) {
    super(connection, queueName, opts, true);
    this.#listenClientName = listenClientName;
  }

  override waitUntilReady(): Promise<void> {
    this.#ready ??= (async () => {
      await this.connection.waitUntilReady();
      const name = this.#listenClientName;
      if (name) {
        // Names the worker's LISTEN session (application_name) for discovery; best-effort.
        await this.setName(name).catch(() => undefined);
      }
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }
}

/**
 * A BullMQ {@link BackendFactory} for Queues and Workers whose `connection` is a pool (or a
 * {@link poolView}) with `schema` on its `search_path`. Same shape as BullMQ's
 * `createPostgresBackend`; pass it as the 3rd argument of `Queue`, the 4th of `Worker`.
 */
export function postgresBackendFactory(schema: string): BackendFactory<PostgresQueueBackend, PgPool> {
  assertSchemaName(schema);
  return (name, opts, factoryOpts = {}) => {
    const connection = new SchemaConnection(opts.connection, schema);
    // As BullMQ names them, so `getWorkers()` finds the worker's session in pg_stat_activity.
    const workerName = (opts as { name?: string }).name;
    const listenClientName = factoryOpts.withBlockingConnection
      ? `${name}${workerName ? `:w:${workerName}` : ""}`
      : factoryOpts.blocking
        ? `${name}:qe`
        : undefined;
    return new RecoveringBackend(connection, name, opts, listenClientName);
  };
}
