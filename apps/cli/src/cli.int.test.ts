import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, testServerUrl } from "@zixly/db/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import type { CliIo } from "./io.js";

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, interactive: false, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

let cwd: string;
const scratchDb = `zixly_cli_${randomBytes(4).toString("hex")}`;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
const saved = { ...process.env };

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "zixly-cli-"));
  db = await createTestDatabase();
});
afterAll(async () => {
  process.env = saved;
  const admin = new pg.Client({ connectionString: testServerUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${scratchDb} WITH (FORCE)`);
  await admin.end();
  await db?.drop();
  await rm(cwd, { recursive: true, force: true });
});

describe("zixly CLI", () => {
  it("prints help with exit 0, and usage errors with exit 2", async () => {
    const help = capture();
    expect(await runCli(["--help"], help, cwd)).toBe(0);
    expect(help.stdout.join("\n")).toMatch(/Usage: zixly <command>/);
    const unknown = capture();
    expect(await runCli(["frobnicate"], unknown, cwd)).toBe(2);
    expect(unknown.stderr.join("\n")).toMatch(/unknown command "frobnicate"/);
    const badFlag = capture();
    expect(await runCli(["jobs", "list", "--bogus"], badFlag, cwd)).toBe(2);
    const missing = capture();
    expect(await runCli(["tenant", "create"], missing, cwd)).toBe(2);
  });

  it("says clearly when the receiver cannot be reached (exit 1)", async () => {
    const io = capture();
    const code = await runCli(["jobs", "list", "--url", "http://127.0.0.1:9", "--token", "zx_x"], io, cwd);
    expect(code).toBe(1);
    expect(io.stderr.join("\n")).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  it("migrates a database with progress and is idempotent", async () => {
    const url = new URL(db.url);
    url.pathname = `/${scratchDb}`;
    process.env.DATABASE_URL = url.toString();
    const first = capture();
    expect(await runCli(["migrate"], first, cwd)).toBe(0);
    expect(first.stderr.join("\n")).toMatch(/migrations \[#+\]/);
    expect(first.stderr.join("\n")).toMatch(/applied 20261121000000_init/);
    const second = capture();
    expect(await runCli(["migrate"], second, cwd)).toBe(0);
    expect(second.stderr.join("\n")).toMatch(/up to date/);
  });

  it("runs the demo to completion: every demo job ends COMPLETED", { timeout: 90_000 }, async () => {
    process.env = {
      ...saved,
      DATABASE_URL: db.url,
      PORT: "0",
      WORKER_METRICS_PORT: "0",
      QUEUE_PREFIX: `zixly-cli-${randomBytes(4).toString("hex")}`,
      ZIXLY_ADMIN_TOKEN: randomBytes(16).toString("hex"),
      ZIXLY_ENCRYPTION_KEY: `k1:${randomBytes(32).toString("base64")}`,
      LOG_LEVEL: "warn",
    };
    const io = capture();
    const code = await runCli(["demo", "--exit"], io, cwd);
    const out = io.stdout.join("\n");
    expect(code, io.stderr.join("\n")).toBe(0);
    expect(out).toMatch(/Zixly demo is running/);
    expect(out.match(/: COMPLETED/g)).toHaveLength(2);
    expect(out).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/api\/jobs\//);
  });
});
