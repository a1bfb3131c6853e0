/**
 * Where the SQS driver keeps the ids of pending messages, so that enqueue is idempotent by id
 * across processes. SQS cannot do this by itself: a standard queue never deduplicates, and a
 * FIFO queue's deduplication id is remembered for 5 minutes from the first send, even after the
 * message was deleted (an acked id could not be enqueued again), and FIFO queues refuse
 * per-message delays. See `docs/aws.md`.
 *
 * A claim is a row (queue, id, token, expiry). Enqueue claims ids before sending and skips ids
 * another claim holds; ack and dead-lettering release the claim (by token, so a stale release
 * never frees a newer claim). Claims expire, so a producer that died between claiming and
 * sending, or a message SQS dropped (retention, redrive safety net), blocks its id only for a
 * while.
 */

/** One message's claim on its id. */
export interface PendingIdClaim {
  id: string;
  /** Random per enqueued message; carried in the message so the consumer can release it. */
  token: string;
}

/**
 * Shared record of pending message ids. All methods must be atomic per id. `queue` is the
 * namespace of the ids; the SQS driver passes the queue's URL, the physical queue the messages
 * are in.
 */
export interface PendingIdStore {
  /**
   * Claim ids for `ttlMs`, unless a live (unexpired) claim holds them. Resolves with the ids
   * this call claimed; the others are pending and must not be sent. `claims` has distinct ids.
   */
  claim(queue: string, claims: readonly PendingIdClaim[], ttlMs: number): Promise<string[]>;
  /** Set the expiry of these claims (matched by token) to `ttlMs` from now. */
  extend(queue: string, claims: readonly PendingIdClaim[], ttlMs: number): Promise<void>;
  /** Remove these claims (matched by token); other tokens' claims on the same ids stay. */
  release(queue: string, claims: readonly PendingIdClaim[]): Promise<void>;
}

/** The one function of a Postgres client the store needs; `pg.Pool#query` fits as is. */
export type SqlQuery = (text: string, values: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>;

/** Options of {@link createPgPendingIdStore}. */
export interface PgPendingIdStoreOptions {
  /** Runs one parameterised statement (`$1`, `$2`, …). */
  query: SqlQuery;
  /** Table name, optionally schema-qualified. Default `queue_pending_ids`. */
  table?: string;
}

const TABLE_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

function tableName(table: string): string {
  if (!TABLE_NAME.test(table))
    throw new TypeError(`pending-id table ${JSON.stringify(table)}: not a plain identifier`);
  return table;
}

/**
 * The table {@link createPgPendingIdStore} uses, as `CREATE TABLE IF NOT EXISTS` (for a
 * migration). Rows are short-lived: released on ack, taken over once expired.
 */
export function pendingIdsTableSql(table = "queue_pending_ids"): string {
  const name = tableName(table);
  return `CREATE TABLE IF NOT EXISTS ${name} (
  queue      text        NOT NULL,
  id         text        NOT NULL,
  token      text        NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (queue, id)
)`;
}

/**
 * A {@link PendingIdStore} in Postgres, the one store every Zixly process already shares.
 * A claim is one `INSERT … ON CONFLICT DO UPDATE … WHERE expired`, atomic per id.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2 });
 * const pendingIds = createPgPendingIdStore({ query: (text, values) => pool.query(text, values) });
 * ```
 */
export function createPgPendingIdStore(options: PgPendingIdStoreOptions): PendingIdStore {
  const table = tableName(options.table ?? "queue_pending_ids");
  const { query } = options;
  const columns = (claims: readonly PendingIdClaim[]) => [
    claims.map((c) => c.id),
    claims.map((c) => c.token),
  ];
  return {
    async claim(queue, claims, ttlMs) {
      if (claims.length === 0) return [];
      const { rows } = await query(
        `INSERT INTO ${table} AS p (queue, id, token, expires_at)
         SELECT $1, c.id, c.token, now() + $4::double precision * interval '1 millisecond'
           FROM unnest($2::text[], $3::text[]) AS c(id, token)
         ON CONFLICT (queue, id) DO UPDATE
            SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
          WHERE p.expires_at <= now()
         RETURNING p.id`,
        [queue, ...columns(claims), ttlMs],
      );
      return rows.map((row) => String(row.id));
    },
    async extend(queue, claims, ttlMs) {
      if (claims.length === 0) return;
      await query(
        `UPDATE ${table} AS p SET expires_at = now() + $4::double precision * interval '1 millisecond'
           FROM unnest($2::text[], $3::text[]) AS c(id, token)
          WHERE p.queue = $1 AND p.id = c.id AND p.token = c.token`,
        [queue, ...columns(claims), ttlMs],
      );
    },
    async release(queue, claims) {
      if (claims.length === 0) return;
      await query(
        `DELETE FROM ${table} AS p
          USING unnest($2::text[], $3::text[]) AS c(id, token)
          WHERE p.queue = $1 AND p.id = c.id AND p.token = c.token`,
        [queue, ...columns(claims)],
      );
    },
  };
}

/**
 * A {@link PendingIdStore} in this process's memory. Only correct when every producer and
 * consumer of the queue runs in this one process (tests, a single-process dev setup): another
 * process neither sees nor releases its claims.
 */
export function createInMemoryPendingIdStore(now: () => number = Date.now): PendingIdStore {
  const claims = new Map<string, { token: string; expiresAt: number }>();
  const key = (queue: string, id: string) => `${queue}\u0000${id}`;
  return {
    async claim(queue, wanted, ttlMs) {
      const claimed: string[] = [];
      for (const { id, token } of wanted) {
        const current = claims.get(key(queue, id));
        if (current && current.expiresAt > now()) continue;
        claims.set(key(queue, id), { token, expiresAt: now() + ttlMs });
        claimed.push(id);
      }
      return claimed;
    },
    async extend(queue, held, ttlMs) {
      for (const { id, token } of held) {
        const current = claims.get(key(queue, id));
        if (current?.token === token) current.expiresAt = now() + ttlMs;
      }
    },
    async release(queue, held) {
      for (const { id, token } of held) {
        if (claims.get(key(queue, id))?.token === token) claims.delete(key(queue, id));
      }
    },
  };
}
