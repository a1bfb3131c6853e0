/**
 * schema.prisma ↔ prisma/migrations: the migrations are written by hand (the schema engine
 * that would diff them cannot be downloaded here), so this checks that a database migrated
 * by the runner has exactly the tables, columns, types, nullability, defaults, indexes,
 * foreign keys and enums that schema.prisma describes. On a mismatch it prints a diff:
 * `-` lines are what schema.prisma implies and the migrations lack, `+` the reverse.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "./migrate.js";
import { defaultMigrationsDir } from "./migrations-dir.js";
import { getDmmf } from "./test-support/prisma-dmmf.js";
import { databaseFacts, diffFacts, expectedFacts } from "./test-support/schema-facts.js";
import { createScratchDatabase, type ScratchDatabase } from "./test-support/scratch-database.js";

const schemaPath = path.resolve(defaultMigrationsDir(), "..", "schema.prisma");
let schema: string;
let db: ScratchDatabase;
let actual: string[];

beforeAll(async () => {
  schema = await readFile(schemaPath, "utf8");
  db = await createScratchDatabase();
  await migrate(db.url);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    actual = await databaseFacts(client);
  } finally {
    await client.end();
  }
});
afterAll(() => db?.drop());

/** The diff for a schema text against the migrated database. */
async function diffFor(schemaText: string): Promise<string> {
  return diffFacts(expectedFacts(await getDmmf(schemaText)), actual);
}

function edit(text: string, from: string | RegExp, to: string): string {
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`test edit did not apply: ${from}`);
  return edited;
}

describe("schema.prisma and prisma/migrations", () => {
  it("describe the same database", async () => {
    const diff = await diffFor(schema);
    expect(
      diff,
      `schema.prisma and prisma/migrations disagree (- schema.prisma only, + migrations only):\n${diff}\n`,
    ).toBe("");
  });

  it("cover every model, enum and relation (the check is not vacuous)", () => {
    const count = (kind: string) => actual.filter((fact) => fact.startsWith(`${kind} `)).length;
    expect({ tables: count("table"), enums: count("enum"), foreignKeys: count("foreign key") }).toEqual({
      tables: 12,
      enums: 4,
      foreignKeys: 13,
    });
    expect(actual).toContain(
      "index jobs jobs_tenant_id_created_at_id_idx (tenant_id, created_at DESC, id DESC)",
    );
    expect(actual).toContain('column jobs.status "JobStatus" NOT NULL');
    expect(actual).toContain("column jobs.created_at timestamp(3) with time zone NOT NULL");
  });
});

describe("the consistency check (run on edited copies of schema.prisma)", () => {
  it("reports a nullability change as a -/+ pair", async () => {
    const diff = await diffFor(
      edit(
        schema,
        /requestId(\s+)String\?(\s+)@map\("request_id"\)\n(\s+)occurredAt/,
        'requestId$1String $2@map("request_id")\n$3occurredAt',
      ),
    );
    expect(diff).toBe(
      [
        "- column webhook_events.request_id text NOT NULL",
        "+ column webhook_events.request_id text NULL",
      ].join("\n"),
    );
  });

  it("reports a renamed column, a changed type, a new enum label and a missing model", async () => {
    let edited = edit(schema, '@map("dedupe_key")', '@map("dedupe")');
    edited = edit(edited, /attempt(\s+)Int\n/, "attempt$1BigInt\n");
    edited = edit(edited, "  DISABLED\n}", "  DISABLED\n  PAUSED\n}");
    edited = `${edited}\nmodel AuditLog {\n  id String @id @db.Uuid\n  @@map("audit_logs")\n}\n`;
    const diff = await diffFor(edited);
    expect(diff).toContain("- column webhook_events.dedupe text NOT NULL");
    expect(diff).toContain("+ column webhook_events.dedupe_key text NOT NULL");
    expect(diff).toContain(
      "- index webhook_events webhook_events_endpoint_id_dedupe_key UNIQUE (endpoint_id, dedupe)",
    );
    expect(diff).toContain("- column job_steps.attempt bigint NOT NULL");
    expect(diff).toContain("+ column job_steps.attempt integer NOT NULL");
    expect(diff).toContain(
      "- enum ConnectionStatus (ACTIVE, NEEDS_REAUTH, DISABLED, PAUSED)".replace(
        "ConnectionStatus",
        '"ConnectionStatus"',
      ),
    );
    expect(diff).toContain("- table audit_logs");
    expect(diff).toContain("- primary key audit_logs audit_logs_pkey (id)");
  });

  it("reports index, unique, default and referential-action changes", async () => {
    let edited = edit(schema, "  @@index([tenantId, status])\n", "");
    edited = edit(edited, "keyHash    String    @unique", "keyHash    String");
    edited = edit(edited, "attempts    Int       @default(0)", "attempts    Int       @default(1)");
    edited = edit(
      edited,
      /(event\s+WebhookEvent\?\s+@relation\(fields: \[eventId\], references: \[id\], onDelete: )SetNull/,
      "$1Cascade",
    );
    const diff = await diffFor(edited);
    expect(diff.split("\n")).toEqual(
      expect.arrayContaining([
        "+ index jobs jobs_tenant_id_status_idx (tenant_id, status)",
        "+ index api_keys api_keys_key_hash_key UNIQUE (key_hash)",
        "- default jobs.attempts 1",
        "+ default jobs.attempts 0",
        "- foreign key jobs jobs_event_id_fkey (event_id) -> webhook_events(id) ON DELETE CASCADE ON UPDATE CASCADE",
        "+ foreign key jobs jobs_event_id_fkey (event_id) -> webhook_events(id) ON DELETE SET NULL ON UPDATE CASCADE",
      ]),
    );
    expect(diff.split("\n")).toHaveLength(6);
  });
});
