import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checksumOf, defaultMigrationsDir, readMigrations, scriptMatchesChecksum } from "./migrations-dir.js";

const dirs: string[] = [];
async function tempMigrations(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "zixly-migrations-"));
  dirs.push(dir);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("migrations directory", () => {
  it("finds the repository's prisma/migrations from the module's location", async () => {
    const dir = defaultMigrationsDir();
    expect(dir).toBe(path.resolve(import.meta.dirname, "../../../prisma/migrations"));
    const lock = await readFile(path.join(dir, "migration_lock.toml"), "utf8");
    expect(lock).toMatch(/^provider = "postgresql"$/m);
  });

  it("lists migration folders in lexicographic order with sha256 checksums of the exact bytes", async () => {
    const dir = await tempMigrations({
      "20260102000000_b/migration.sql": "SELECT 2;\r\n",
      "20260101000000_a/migration.sql": "SELECT 1;\n",
      "migration_lock.toml": 'provider = "postgresql"\n',
    });
    const migrations = await readMigrations(dir);
    expect(migrations.map((m) => m.name)).toEqual(["20260101000000_a", "20260102000000_b"]);
    expect(migrations[1]?.checksum).toBe(createHash("sha256").update("SELECT 2;\r\n").digest("hex"));
    expect(migrations[1]?.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it("matches checksums across line endings, as Prisma does", () => {
    const lf = "CREATE TABLE a ();\nCREATE TABLE b ();\n";
    const crlf = lf.replaceAll("\n", "\r\n");
    expect(scriptMatchesChecksum(crlf, checksumOf(lf))).toBe(true);
    expect(scriptMatchesChecksum(lf, checksumOf(crlf))).toBe(true);
    expect(scriptMatchesChecksum(`${lf} `, checksumOf(lf))).toBe(false);
  });

  it("rejects a folder without migration.sql and a lock for another provider", async () => {
    const missing = await tempMigrations({ "20260101000000_a/readme.md": "" });
    await expect(readMigrations(missing)).rejects.toThrow(/20260101000000_a has no readable migration\.sql/);
    const mysql = await tempMigrations({ "migration_lock.toml": 'provider = "mysql"\n' });
    await expect(readMigrations(mysql)).rejects.toThrow(/provider "mysql", not "postgresql"/);
    await expect(readMigrations(path.join(mysql, "nope"))).rejects.toThrow(
      /Cannot read the migrations directory/,
    );
  });
});
