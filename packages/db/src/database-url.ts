/**
 * PostgreSQL connection-URL helpers shared by the runner, the client factory and the test
 * helpers. Prisma reads a `schema` query parameter that `pg` does not know; it is split off
 * here so every consumer targets the same schema `prisma migrate deploy` would.
 */

/** A connection string for `pg` plus the PostgreSQL schema Prisma would use for it. */
export interface PgTarget {
  /** The URL without Prisma's `schema` parameter. */
  connectionString: string;
  /** `?schema=` of the URL, `public` when absent (Prisma's default). */
  schema: string;
}

function parse(databaseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw new Error("Invalid database URL: expected postgresql://user[:password]@host[:port]/database");
  }
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    throw new Error(`Invalid database URL: unsupported protocol "${url.protocol}" (expected postgresql:)`);
  }
  return url;
}

/** Splits Prisma's `schema` parameter off a URL (`pg` would silently ignore it). */
export function pgTargetOf(databaseUrl: string): PgTarget {
  const url = parse(databaseUrl);
  const schema = url.searchParams.get("schema") || "public";
  url.searchParams.delete("schema");
  return { connectionString: url.toString(), schema };
}

/** The database a URL names (its path, percent-decoded). */
export function databaseNameOf(databaseUrl: string): string {
  const name = decodeURIComponent(parse(databaseUrl).pathname.replace(/^\//, ""));
  if (name === "")
    throw new Error("Invalid database URL: it names no database (postgresql://host/<database>)");
  return name;
}

/** The same URL (credentials, host, parameters) pointing at another database on the server. */
export function withDatabaseName(databaseUrl: string, name: string): string {
  const url = parse(databaseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/** Quotes an SQL identifier (database, schema, table names cannot be bind parameters). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
