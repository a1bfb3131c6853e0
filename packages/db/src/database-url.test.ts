import { describe, expect, it } from "vitest";
import { databaseNameOf, pgTargetOf, quoteIdent, withDatabaseName } from "./database-url.js";

describe("database URLs", () => {
  it("splits Prisma's schema parameter off, defaulting to public", () => {
    expect(pgTargetOf("postgresql://u:p@h:5432/db?schema=tenant_a&sslmode=disable")).toEqual({
      connectionString: "postgresql://u:p@h:5432/db?sslmode=disable",
      schema: "tenant_a",
    });
    expect(pgTargetOf("postgresql://u@h/db").schema).toBe("public");
  });

  it("swaps the database and keeps credentials and parameters", () => {
    expect(withDatabaseName("postgresql://u:p%40ss@h:5433/app?sslmode=require", "postgres")).toBe(
      "postgresql://u:p%40ss@h:5433/postgres?sslmode=require",
    );
    expect(databaseNameOf("postgresql://h/my%20db")).toBe("my db");
  });

  it("rejects URLs it cannot use, without echoing them (they hold passwords)", () => {
    expect(() => pgTargetOf("mysql://u:secret@h/db")).toThrow(/unsupported protocol/);
    expect(() => pgTargetOf("not a url secret")).toThrow(/^Invalid database URL/);
    expect(() => pgTargetOf("not a url secret")).not.toThrow(/secret/);
    expect(() => databaseNameOf("postgresql://h")).toThrow(/names no database/);
  });

  it("quotes identifiers", () => {
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
  });
});
