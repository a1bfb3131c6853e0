/**
 * A `pg.Pool`-shaped adapter over an in-process PGlite instance, so the Postgres driver (and
 * BullMQ's PostgreSQL backend under it) runs embedded, with no server and no Redis.
 *
 * PGlite is one Postgres session in this process. The adapter gives BullMQ what it uses of
 * node-postgres on top of that session:
 * - `query(text, params)`: parameterised statements through PGlite's extended protocol,
 *   parameterless text (which may hold several statements, as BullMQ's migrations do) through
 *   its simple protocol; results shaped like `pg`'s (`rows`, `rowCount`; `int8` and `numeric`
 *   as strings, as `pg` returns them);
 * - `connect()` / `release()`: "sessions" that all share the one real session. A session that
 *   opens a transaction (`BEGIN`) has the database to itself until `COMMIT` / `ROLLBACK`;
 *   everyone else's statements wait. BullMQ only uses explicit transactions to migrate;
 * - `LISTEN` / `NOTIFY`: every notification PGlite receives is emitted as a `notification`
 *   event on every checked-out session (BullMQ filters by channel and payload);
 * - `end()`: refuses further statements; the PGlite instance stays the caller's to close.
 *
 * The session's `search_path` is set to the queue schema (then `public`) for the whole
 * instance. Give the queue a PGlite instance (data directory) of its own rather than sharing
 * the app's, whose unqualified names would then resolve into the queue schema first.
 *
 * PGlite is not imported here: any object with the {@link PgliteLike} surface works, so the
 * package does not depend on `@electric-sql/pglite`.
 */
import { EventEmitter } from "node:events";
import type { PgNotification, PgPool, PgPoolClient, PgQueryResult } from "bullmq";
import { DEFAULT_POSTGRES_SCHEMA, searchPathOption } from "./postgres-backend.js";

/** Converts one text-format column value; PGlite's `parsers` option takes a map of these. */
type Parser = (value: string, typeId: number) => unknown;

/** The PGlite surface the adapter uses (`@electric-sql/pglite`'s `PGlite` has it). */
export interface PgliteLike {
  query<T>(
    query: string,
    params?: unknown[],
    options?: { parsers?: Record<number, Parser> },
  ): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(
    query: string,
    options?: { parsers?: Record<number, Parser> },
  ): Promise<Array<{ rows: unknown[]; affectedRows?: number }>>;
  onNotification(callback: (channel: string, payload: string) => void): () => void;
}

/** Options of {@link createPglitePool}. */
export interface PglitePoolOptions {
  /** The queue schema, put first on the session's `search_path`. Default `"zixly_queue"`. */
  schema?: string;
}

/** The pool {@link createPglitePool} returns: `pg.Pool`'s surface as BullMQ uses it. */
export interface PglitePool extends PgPool {
  /** Read by the driver and BullMQ: an in-process session cannot drop silently. */
  readonly options: { keepAlive: true };
  /** Statements run so far (for tests and diagnostics). */
  readonly statements: number;
}

/** `pg` returns these as strings (they may not fit a JS number); PGlite would return numbers. */
const PG_COMPATIBLE_PARSERS: Record<number, Parser> = {
  20: (value) => value, // int8
  1700: (value) => value, // numeric
};

const TRANSACTION_START = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const TRANSACTION_END = /^\s*(COMMIT|ROLLBACK|END|ABORT)\b(?!\s+PREPARED)/i;

/**
 * Wrap `db` (an open PGlite instance) as a pool for {@link createPostgresDriver} and
 * `migratePostgresQueue`.
 *
 * @example
 * ```ts
 * const db = await PGlite.create("./data/queue");
 * const pool = createPglitePool(db);
 * await migratePostgresQueue({ pool });
 * const queue = createPostgresDriver({ pool });
 * ```
 */
export function createPglitePool(db: PgliteLike, options: PglitePoolOptions = {}): PglitePool {
  const schema = options.schema ?? DEFAULT_POSTGRES_SCHEMA;
  const searchPath = searchPathOption(schema).replace(/^-c search_path=/, "");
  const events = new EventEmitter();
  const sessions = new Set<PgliteSession>();
  let ended = false;
  let statements = 0;
  let prepared: Promise<void> | undefined;
  /** The session inside a transaction, and what others wait on until it ends. */
  let owner: { session: PgliteSession; done: Promise<void>; finish: () => void } | undefined;

  const unsubscribe = db.onNotification((channel, payload) => {
    const notification: PgNotification = { channel, payload };
    for (const session of sessions) session.emit("notification", notification);
  });

  const prepare = (): Promise<void> => {
    prepared ??= db
      .exec(`SET search_path TO ${searchPath}, public`)
      .then(() => undefined)
      .catch((error: unknown) => {
        prepared = undefined;
        throw error;
      });
    return prepared;
  };

  const run = async <R>(
    session: PgliteSession | undefined,
    text: string,
    params?: readonly unknown[],
  ): Promise<PgQueryResult<R>> => {
    if (ended) throw new Error("Cannot use a pool after calling end on the pool");
    await prepare();
    while (owner && owner.session !== session) await owner.done;
    if (session && TRANSACTION_START.test(text)) {
      let finish: () => void = () => undefined;
      const done = new Promise<void>((resolve) => {
        finish = resolve;
      });
      owner = { session, done, finish };
    }
    statements += 1;
    try {
      if (params && params.length > 0) {
        const result = await db.query<R>(text, [...params], { parsers: PG_COMPATIBLE_PARSERS });
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      }
      const results = await db.exec(text, { parsers: PG_COMPATIBLE_PARSERS });
      const last = results.at(-1);
      const rows = (last?.rows ?? []) as R[];
      return { rows, rowCount: last?.affectedRows ?? rows.length };
    } finally {
      if (session && owner?.session === session && TRANSACTION_END.test(text)) endTransaction();
    }
  };

  const endTransaction = (): void => {
    const current = owner;
    owner = undefined;
    current?.finish();
  };

  class PgliteSession extends EventEmitter {
    #released = false;

    query<R>(text: string, params?: readonly unknown[]): Promise<PgQueryResult<R>> {
      if (this.#released) return Promise.reject(new Error("session already released to the pool"));
      return run<R>(this, text, params);
    }

    release(): void {
      if (this.#released) return;
      this.#released = true;
      sessions.delete(this);
      this.removeAllListeners("notification");
      // A session given back mid-transaction (its owner failed) must not lock everyone out.
      if (owner?.session === this) {
        void db
          .exec("ROLLBACK")
          .catch(() => undefined)
          .finally(endTransaction);
      }
    }
  }

  const pool = {
    options: { keepAlive: true as const },
    get statements() {
      return statements;
    },
    query: <R>(text: string, params?: readonly unknown[]) => run<R>(undefined, text, params),
    async connect(): Promise<PgPoolClient> {
      if (ended) throw new Error("Cannot use a pool after calling end on the pool");
      await prepare();
      const session = new PgliteSession();
      sessions.add(session);
      return session as unknown as PgPoolClient;
    },
    async end(): Promise<void> {
      if (ended) return;
      ended = true;
      unsubscribe();
      for (const session of [...sessions]) session.release();
    },
    on(event: string, listener: (...args: unknown[]) => void) {
      events.on(event, listener);
      return pool;
    },
    removeAllListeners(event?: string) {
      events.removeAllListeners(event);
      return pool;
    },
  };
  return pool as unknown as PglitePool;
}
