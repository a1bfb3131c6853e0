/**
 * The schema ↔ migrations consistency check. Both sides are reduced to the same list of
 * one-line "facts" (a table, a column with its type and nullability, a default, an index,
 * a foreign key, an enum), so a disagreement reads as a plain diff:
 *
 *   - column jobs.status "JobStatus" NOT NULL      ← schema.prisma says, the database lacks
 *   + column jobs.status "JobStatus" NULL          ← the database has, schema.prisma lacks
 *
 * Expected facts follow what `prisma migrate diff` would emit for the schema, plus our one
 * convention: `@default(uuid())` ids also get `DEFAULT gen_random_uuid()` (docs/database.md).
 */
import type pg from "pg";
import type { Dmmf, DmmfDefault, DmmfField, DmmfModel } from "./prisma-dmmf.js";

/** PostgreSQL's identifier limit; Prisma truncates generated constraint names to fit. */
const MAX_IDENTIFIER = 63;

/** `quote_ident`: quotes names PostgreSQL would otherwise fold or reject. */
function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** Prisma's default constraint names: `<table>_<columns>_<suffix>`, truncated to fit. */
function constraintName(table: string, columns: string[], suffix: "pkey" | "key" | "idx" | "fkey"): string {
  const base = suffix === "pkey" ? table : `${table}_${columns.join("_")}`;
  return `${base.slice(0, MAX_IDENTIFIER - suffix.length - 1)}_${suffix}`;
}

const tableOf = (model: DmmfModel) => model.dbName ?? model.name;
const columnOf = (field: DmmfField) => field.dbName ?? field.name;

/** The `format_type()` spelling of a field's column type. */
function columnType(field: DmmfField, enumDbNames: Map<string, string>): string {
  const [native, args = []] = field.nativeType ?? [];
  const withArgs = (base: string) => (args.length > 0 ? `${base}(${args.join(",")})` : base);
  let type: string;
  if (field.kind === "enum") {
    type = quoteIdent(enumDbNames.get(field.type) ?? field.type);
  } else if (native) {
    const natives: Record<string, string> = {
      Uuid: "uuid",
      Text: "text",
      VarChar: withArgs("character varying"),
      Char: withArgs("character"),
      Timestamptz: `timestamp(${args[0] ?? "6"}) with time zone`,
      Timestamp: `timestamp(${args[0] ?? "6"}) without time zone`,
      Date: "date",
      Integer: "integer",
      SmallInt: "smallint",
      BigInt: "bigint",
      JsonB: "jsonb",
      Json: "json",
      Boolean: "boolean",
      DoublePrecision: "double precision",
      Real: "real",
      Decimal: withArgs("numeric"),
      ByteA: "bytea",
    };
    type = natives[native] ?? `<native type @db.${native} not mapped in schema-facts.ts>`;
  } else {
    const scalars: Record<string, string> = {
      String: "text",
      Int: "integer",
      BigInt: "bigint",
      Boolean: "boolean",
      Float: "double precision",
      Decimal: "numeric(65,30)",
      DateTime: "timestamp(3) without time zone",
      Json: "jsonb",
      Bytes: "bytea",
    };
    type = scalars[field.type] ?? `<Prisma type ${field.type} not mapped in schema-facts.ts>`;
  }
  return field.isList ? `${type}[]` : type;
}

/** The `pg_get_expr()` spelling of the database default a field's `@default` implies, if any. */
function columnDefault(field: DmmfField, type: string): string | undefined {
  const value: DmmfDefault | undefined = field.default;
  if (value === undefined) return undefined;
  if (typeof value === "object" && !Array.isArray(value)) {
    switch (value.name) {
      case "now":
        return "CURRENT_TIMESTAMP";
      case "uuid":
        // Our convention; Prisma itself generates these ids client-side only.
        return field.nativeType?.[0] === "Uuid" ? "gen_random_uuid()" : undefined;
      case "dbgenerated":
        return value.args[0] === undefined ? undefined : String(value.args[0]);
      case "autoincrement":
        return "nextval(…)";
      default:
        return undefined; // cuid(), nanoid(), ulid(): client-side only
    }
  }
  if (Array.isArray(value)) return `<list default not mapped in schema-facts.ts>`;
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  const literal = `'${value.replaceAll("'", "''")}'`;
  if (field.kind === "enum") return `${literal}::${type}`;
  return type === "text" ? `${literal}::text` : `${literal}::${type.replace(/\(.*$/, "")}`;
}

/** Facts `prisma/schema.prisma` implies for the database. */
export function expectedFacts(dmmf: Dmmf): string[] {
  const facts: string[] = [];
  const { enums, models, indexes } = dmmf.datamodel;
  const enumDbNames = new Map(enums.map((e) => [e.name, e.dbName ?? e.name]));
  for (const e of enums) {
    facts.push(
      `enum ${quoteIdent(e.dbName ?? e.name)} (${e.values.map((v) => v.dbName ?? v.name).join(", ")})`,
    );
  }
  const modelsByName = new Map(models.map((model) => [model.name, model]));
  for (const model of models) {
    const table = tableOf(model);
    facts.push(`table ${table}`);
    const fieldsByName = new Map(model.fields.map((field) => [field.name, field]));
    const columnsOf = (names: string[]) =>
      names.map((name) => columnOf(fieldsByName.get(name) ?? ({ name } as DmmfField)));
    for (const field of model.fields) {
      if (field.kind === "object") continue;
      const type = columnType(field, enumDbNames);
      facts.push(`column ${table}.${columnOf(field)} ${type} ${field.isRequired ? "NOT NULL" : "NULL"}`);
      const def = columnDefault(field, type);
      if (def !== undefined) facts.push(`default ${table}.${columnOf(field)} ${def}`);
    }
    for (const index of indexes.filter((candidate) => candidate.model === model.name)) {
      const columns = columnsOf(index.fields.map((f) => f.name));
      const rendered = index.fields.map((f, i) => `${columns[i]}${f.sortOrder === "desc" ? " DESC" : ""}`);
      if (index.type === "id") {
        facts.push(
          `primary key ${table} ${index.dbName ?? constraintName(table, columns, "pkey")} (${columns.join(", ")})`,
        );
      } else {
        const unique = index.type === "unique";
        const name = index.dbName ?? constraintName(table, columns, unique ? "key" : "idx");
        facts.push(`index ${table} ${name}${unique ? " UNIQUE" : ""} (${rendered.join(", ")})`);
      }
    }
    for (const field of model.fields) {
      if (field.kind !== "object" || !field.relationFromFields?.length) continue;
      const target = modelsByName.get(field.type);
      if (!target) continue;
      const targetFields = new Map(target.fields.map((f) => [f.name, f]));
      const columns = columnsOf(field.relationFromFields);
      const refColumns = (field.relationToFields ?? []).map((name) =>
        columnOf(targetFields.get(name) ?? ({ name } as DmmfField)),
      );
      // Prisma's defaults: Restrict for a required relation, SetNull for an optional one; Cascade on update.
      // `@relation(map: …)` is not in the DMMF: such a constraint shows up under its default name.
      const onDelete = field.relationOnDelete ?? (field.isRequired ? "Restrict" : "SetNull");
      const onUpdate = field.relationOnUpdate ?? "Cascade";
      facts.push(
        `foreign key ${table} ${constraintName(table, columns, "fkey")} (${columns.join(", ")}) ` +
          `-> ${tableOf(target)}(${refColumns.join(", ")}) ON DELETE ${referentialAction(onDelete)} ON UPDATE ${referentialAction(onUpdate)}`,
      );
    }
  }
  return facts.sort();
}

function referentialAction(prismaAction: string): string {
  const actions: Record<string, string> = {
    Cascade: "CASCADE",
    Restrict: "RESTRICT",
    NoAction: "NO ACTION",
    SetNull: "SET NULL",
    SetDefault: "SET DEFAULT",
  };
  return actions[prismaAction] ?? prismaAction;
}

const PG_ACTIONS: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};

/** Facts read from the catalog of a migrated database (Prisma's bookkeeping table excluded). */
export async function databaseFacts(client: pg.ClientBase, schema = "public"): Promise<string[]> {
  const facts: string[] = [];
  const skip = "_prisma_migrations";

  const enums = await client.query<{ name: string; labels: string[] }>(
    `SELECT format_type(t.oid, NULL) AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 GROUP BY t.oid`,
    [schema],
  );
  for (const e of enums.rows) facts.push(`enum ${e.name} (${e.labels.join(", ")})`);

  const tables = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2`,
    [schema, skip],
  );
  for (const t of tables.rows) facts.push(`table ${t.name}`);

  const columns = await client.query<{
    table: string;
    name: string;
    type: string;
    notnull: boolean;
    def: string | null;
  }>(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS def
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema, skip],
  );
  for (const c of columns.rows) {
    facts.push(`column ${c.table}.${c.name} ${c.type} ${c.notnull ? "NOT NULL" : "NULL"}`);
    if (c.def !== null) {
      facts.push(`default ${c.table}.${c.name} ${c.def.startsWith("nextval(") ? "nextval(…)" : c.def}`);
    }
  }

  const indexes = await client.query<{
    table: string;
    name: string;
    unique: boolean;
    primary: boolean;
    columns: string[];
  }>(
    `SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary,
            array(SELECT pg_get_indexdef(x.indexrelid, k + 1, true)
                         || CASE WHEN x.indoption[k] & 1 = 1 THEN ' DESC' ELSE '' END
                    FROM generate_subscripts(x.indkey, 1) AS k ORDER BY k)::text[] AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relname <> $2`,
    [schema, skip],
  );
  for (const x of indexes.rows) {
    const columns = x.columns.map((c) => c.replaceAll('"', ""));
    facts.push(
      x.primary
        ? `primary key ${x.table} ${x.name} (${columns.join(", ")})`
        : `index ${x.table} ${x.name}${x.unique ? " UNIQUE" : ""} (${columns.join(", ")})`,
    );
  }

  const fks = await client.query<{
    table: string;
    name: string;
    columns: string[];
    ref_table: string;
    ref_columns: string[];
    on_delete: string;
    on_update: string;
  }>(
    `SELECT t.relname AS table, c.conname AS name, r.relname AS ref_table,
            array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num ORDER BY k.ord)::text[] AS columns,
            array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(num, ord)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num ORDER BY k.ord)::text[] AS ref_columns,
            c.confdeltype AS on_delete, c.confupdtype AS on_update
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND c.contype = 'f'`,
    [schema],
  );
  for (const f of fks.rows) {
    facts.push(
      `foreign key ${f.table} ${f.name} (${f.columns.join(", ")}) -> ${f.ref_table}(${f.ref_columns.join(", ")}) ` +
        `ON DELETE ${PG_ACTIONS[f.on_delete] ?? f.on_delete} ON UPDATE ${PG_ACTIONS[f.on_update] ?? f.on_update}`,
    );
  }
  return facts.sort();
}

/**
 * A readable diff: `- <fact>` for what schema.prisma implies but the database lacks,
 * `+ <fact>` for what the database has but schema.prisma does not imply. Empty when equal.
 */
export function diffFacts(expected: string[], actual: string[]): string {
  const have = new Set(actual);
  const want = new Set(expected);
  const lines = [
    ...expected.filter((fact) => !have.has(fact)).map((fact) => `- ${fact}`),
    ...actual.filter((fact) => !want.has(fact)).map((fact) => `+ ${fact}`),
  ];
  // Group by the object a fact is about, `-` first, so a changed column reads as a -/+ pair.
  const keyOf = (line: string) => `${subjectOf(line.slice(2))}\u0000${line[0] === "-" ? 0 : 1}${line}`;
  return lines.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0)).join("\n");
}

/** "column jobs.status", "index jobs jobs_status_idx", …: a fact without its details. */
function subjectOf(fact: string): string {
  const named = /^(primary key|foreign key|index) (\S+) (\S+)/.exec(fact);
  if (named) return named[0];
  return /^(\S+) (\S+)/.exec(fact)?.[0] ?? fact;
}
