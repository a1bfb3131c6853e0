/**
 * The Prisma client factory. Prisma 7's client has no bundled engine: queries go through a
 * driver adapter, here `@prisma/adapter-pg` over a `pg` pool.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { pgTargetOf } from "./database-url.js";
import { PrismaClient } from "./generated/prisma/client.js";

/** Options of {@link createPrismaClient}. */
export interface CreatePrismaClientOptions {
  /** Pool size (pg's default: 10). Connections open lazily, up to this many. */
  max?: number;
}

/**
 * A Prisma client on `databaseUrl`. A `?schema=` parameter selects the PostgreSQL schema, as
 * it does for `prisma migrate deploy` and {@link migrate}. Call `$disconnect()` to end the pool.
 */
export function createPrismaClient(databaseUrl: string, opts: CreatePrismaClientOptions = {}): PrismaClient {
  const { connectionString, schema } = pgTargetOf(databaseUrl);
  const adapter = new PrismaPg(
    {
      connectionString,
      // A database that hangs instead of refusing must still turn into an error (→ 503) promptly.
      connectionTimeoutMillis: 5_000,
      ...(opts.max !== undefined ? { max: opts.max } : {}),
    },
    // Only a non-default schema is passed: with `schema` set, the adapter qualifies every table.
    schema === "public" ? undefined : { schema },
  );
  return new PrismaClient({ adapter });
}

/** Raw parameterised SQL over a Prisma client, for libraries that take a `query` function. */
export function sqlOf(prisma: PrismaClient) {
  return async (text: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> => ({
    rows: await prisma.$queryRawUnsafe<Array<Record<string, unknown>>>(text, ...values),
  });
}
