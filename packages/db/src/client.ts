/**
 * The Prisma client factory. Prisma 7's client has no bundled engine: queries go through a
 * driver adapter, here `@prisma/adapter-pg` over a `pg` pool that this module creates and
 * also lends to the hot paths (see {@link rawQueryOf}).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { pgTargetOf } from "./database-url.js";
import { PrismaClient } from "./generated/prisma/client.js";

/** Options of {@link createPrismaClient}. */
export interface CreatePrismaClientOptions {
  /** Pool size (pg's default: 10). Connections open lazily, up to this many. */
  max?: number;
}

/** The pool under each client this module made (clients made elsewhere have none here). */
const pools = new WeakMap<PrismaClient, pg.Pool>();

/**
 * A Prisma client on `databaseUrl`. A `?schema=` parameter selects the PostgreSQL schema, as
 * it does for `prisma migrate deploy` and {@link migrate}. Call `$disconnect()` to end the pool.
 */
export function createPrismaClient(databaseUrl: string, opts: CreatePrismaClientOptions = {}): PrismaClient {
  const { connectionString, schema } = pgTargetOf(databaseUrl);
  // Session settings on each new connection, before its first query. As SET, not as
  // startup `options`, which connection poolers such as PgBouncer refuse by default.
  const sessionSettings = [
    // Named statements are parsed once but planned on every execution, with its values: a
    // generic plan cached while a table was small (a fresh install, right after a TRUNCATE)
    // kept seq-scanning `jobs` as it grew, until the next ANALYZE — measured as a pipeline
    // falling behind at 60% of its capacity.
    "SET plan_cache_mode = force_custom_plan",
    // Raw statements name tables unqualified: they must resolve in the schema Prisma uses.
    ...(schema === "public" ? [] : [`SET search_path TO ${quoteIdent(schema)}`]),
  ].join("; ");
  const pool = new pg.Pool({
    connectionString,
    // A database that hangs instead of refusing must still turn into an error (→ 503) promptly.
    connectionTimeoutMillis: 5_000,
    ...(opts.max !== undefined ? { max: opts.max } : {}),
    // Awaited by the pool before it hands the connection out (a SET sent from the "connect"
    // event raced the first query on that client, which pg deprecates). Best effort: a server
    // refusing a setting still serves the connection with its defaults.
    onConnect: async (client: pg.ClientBase) => {
      await client.query(sessionSettings).catch(() => {});
    },
  });
  const adapter = new PrismaPg(pool, {
    // Only a non-default schema is passed: with `schema` set, the adapter qualifies every table.
    ...(schema === "public" ? {} : { schema }),
    // `$disconnect()` ends the pool, as it did when the adapter made its own.
    disposeExternalPool: true,
  });
  const prisma = new PrismaClient({ adapter });
  // An idle connection the server dropped (restart, failover) must not crash the process: the
  // next query opens a new one and reports its own error. (The adapter adds its listener only
  // once Prisma connects, which raw-only use never makes it do.)
  pool.on("error", () => {});
  // The pool ends with the client even if only raw statements used it (Prisma then never
  // connected its adapter, whose disposal would end it).
  const disconnect = prisma.$disconnect.bind(prisma);
  Object.defineProperty(prisma, "$disconnect", {
    value: async () => {
      await disconnect();
      if (!pool.ended) await pool.end();
    },
  });
  pools.set(prisma, pool);
  return prisma;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Raw parameterised SQL over a Prisma client, for libraries that take a `query` function. */
export function sqlOf(prisma: PrismaClient) {
  return async (text: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> => ({
    rows: await prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(text, ...values),
  });
}

/** One parameterised statement for {@link RawQuery}. */
export interface RawStatement {
  text: string;
  values: readonly unknown[];
  /**
   * Prepares the statement once per connection under this name (parse and plan are skipped
   * afterwards). One name, one text: use it for fixed statements only.
   */
  name?: string;
}

/** Runs one statement and resolves with its rows. */
export type RawQuery = <Row = Record<string, unknown>>(statement: RawStatement) => Promise<Row[]>;

/**
 * The hot paths' way to run SQL: straight on the client's `pg` pool when this module made the
 * client, through Prisma's `$queryRawUnsafe` otherwise (embedded PGlite, test doubles). Going
 * around the ORM skips its per-query work (about a tenth of the worker's CPU per job) and,
 * until an ORM query is made, the ~45 MB its query compiler (WebAssembly) takes once loaded.
 * Rows come as `pg` returns them: keep to types both paths return alike (text, uuid::text,
 * int4, bool, timestamptz, jsonb, arrays of these); cast `count(*)` to int.
 */
export function rawQueryOf(prisma: PrismaClient): RawQuery {
  const pool = pools.get(prisma);
  if (!pool) {
    return <Row>(s: RawStatement) => prisma.$queryRawUnsafe<Row[]>(s.text, ...s.values);
  }
  return async <Row>(s: RawStatement) => {
    const result = await pool.query({
      text: s.text,
      values: s.values as unknown[],
      ...(s.name ? { name: s.name } : {}),
    });
    return result.rows as Row[];
  };
}
