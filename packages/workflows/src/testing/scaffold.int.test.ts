// `npm run new:workflow` end to end: the script writes into a temporary copy of the catalogue
// (inside the package, so the generated relative imports resolve exactly as in the real
// catalogue), and the generated tests then run, unchanged, in a Vitest of their own.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const src = fileURLToPath(new URL("..", import.meta.url));
const repo = resolve(src, "../../..");
const script = join(repo, "scripts", "new-workflow.mjs");
const dir = join(src, `.scaffold-tmp-${randomBytes(6).toString("hex")}`);
const reports = mkdtempSync(join(tmpdir(), "zixly-scaffold-"));

/** The environment without the outer Vitest's own variables, for tools spawned from a test. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST")));

async function scaffold(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd: repo, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

const generated = (name: string) =>
  ["ts", "fixture.json", "test.ts"].map((ext) => join(dir, `${name}.${ext}`));
const read = (file: string) => readFileSync(file, "utf8");

/** One workflow per source, each with the event type that source really sends. */
const variants = [
  { name: "sync-contact-demo", source: "standard", event: "sync-contact-demo.requested", args: [] },
  {
    name: "xero-contact-demo",
    source: "xero",
    event: "contact.updated",
    args: ["--source", "xero", "--event", "contact.updated"],
  },
  {
    name: "hubspot-deal-demo",
    source: "hubspot",
    event: "deal.propertychange",
    args: ["--source", "hubspot", "--event", "deal.propertychange"],
  },
  {
    name: "shopify-order-demo",
    source: "shopify",
    event: "orders.paid",
    args: ["--source=shopify", "--event=orders.paid"],
  },
  {
    name: "asana-task-demo",
    source: "asana",
    event: "task.changed",
    args: ["--source", "asana", "--event", "task.changed"],
  },
];

beforeAll(() => {
  mkdirSync(dir);
  // Every catalogue module (not tests): the copied index imports them all.
  const modules = readdirSync(join(src, "catalogue")).filter(
    (f) => f.endsWith(".ts") && !f.endsWith(".test.ts"),
  );
  for (const file of modules) {
    copyFileSync(join(src, "catalogue", file), join(dir, file));
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(reports, { recursive: true, force: true });
});

describe("npm run new:workflow", () => {
  it("writes a workflow, its fixture and its test, and registers the workflow in index.ts", async () => {
    const out = await scaffold("sync-contact-demo", "--dir", dir);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    for (const file of generated("sync-contact-demo")) expect(existsSync(file)).toBe(true);
    expect(out.stdout).toContain("Next steps:");

    const workflow = read(join(dir, "sync-contact-demo.ts"));
    expect(workflow).toContain('id: "sync-contact-demo"');
    expect(workflow).toContain('trigger: { source: "standard", event: "sync-contact-demo.requested" }');
    expect(JSON.parse(read(join(dir, "sync-contact-demo.fixture.json")))).toMatchObject({
      source: "standard",
      type: "sync-contact-demo.requested",
      data: { type: "sync-contact-demo.requested", data: { contactId: expect.any(String) } },
    });

    const index = read(join(dir, "index.ts"));
    expect(index).toContain('import { syncContactDemo } from "./sync-contact-demo.js";');
    expect(index).toMatch(/workflows: readonly AnyWorkflow\[\] = \[[^\]]*syncContactDemo as AnyWorkflow/);
    expect(index).toContain('export { syncContactDemo } from "./sync-contact-demo.js";');
  });

  it("writes the trigger and a matching sample event for every source", async () => {
    for (const { name, source, event, args } of variants.slice(1)) {
      const out = await scaffold(name, "--dir", dir, ...args);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(read(join(dir, `${name}.fixture.json`)))).toMatchObject({ source, type: event });
      expect(read(join(dir, `${name}.ts`))).toContain(`trigger: { source: "${source}", event: "${event}" }`);
    }
  });

  it("refuses to overwrite an existing workflow and changes nothing", async () => {
    const before = generated("sync-contact-demo").map(read);
    const index = read(join(dir, "index.ts"));
    const out = await scaffold("sync-contact-demo", "--dir", dir, "--source", "xero");
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("refusing to overwrite");
    expect(generated("sync-contact-demo").map(read)).toEqual(before);
    expect(read(join(dir, "index.ts"))).toBe(index);
  });

  it("registers idempotently: a re-run after deleting the files keeps one registration", async () => {
    const index = read(join(dir, "index.ts"));
    const saved = generated("sync-contact-demo").map((file) => [file, read(file)] as const);
    for (const [file] of saved) rmSync(file);
    const out = await scaffold("sync-contact-demo", "--dir", dir);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("already registered");
    expect(read(join(dir, "index.ts"))).toBe(index);
    for (const [file, text] of saved) expect(read(file)).toBe(text);
  });

  it("registers in an index with an empty, one-line workflows array", async () => {
    const nested = join(dir, "team");
    mkdirSync(nested);
    writeFileSync(
      join(nested, "index.ts"),
      'import type { AnyWorkflow } from "../../registry.js";\n\nexport const workflows: readonly AnyWorkflow[] = [];\n',
    );
    const out = await scaffold("team-flow", "--dir", nested);
    expect(out.code, out.stderr).toBe(0);
    expect(read(join(nested, "index.ts"))).toBe(
      'import type { AnyWorkflow } from "../../registry.js";\nimport { teamFlow } from "./team-flow.js";\n\n' +
        "export const workflows: readonly AnyWorkflow[] = [teamFlow as AnyWorkflow];\n",
    );
    expect(read(join(nested, "team-flow.ts"))).toContain('from "../../define-workflow.js"');
    rmSync(nested, { recursive: true });
  });

  it("rejects a name that is not kebab-case, an unknown source and an upper-case event", async () => {
    for (const args of [
      ["SyncContact"],
      ["sync--contact"],
      ["x", "--source", "stripe"],
      ["ok", "--event", "A.B"],
    ]) {
      const out = await scaffold(...args, "--dir", dir);
      expect(out.code, args.join(" ")).toBe(1);
      expect(out.stderr).toMatch(/new:workflow: /);
    }
    expect(existsSync(join(dir, "x.ts"))).toBe(false);
  });

  it("produces workflows whose generated tests pass unchanged", async () => {
    const tests = variants.map(({ name }) => relative(repo, join(dir, `${name}.test.ts`)));
    const report = join(reports, "vitest.json");
    const vitest = join(repo, "node_modules", "vitest", "vitest.mjs");
    await run(
      process.execPath,
      [
        vitest,
        "run",
        "--root",
        repo,
        "--project",
        "workflows",
        "--reporter=json",
        `--outputFile=${report}`,
        ...tests,
      ],
      { cwd: repo, env },
    ).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`the generated tests failed:\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
    });
    const result = JSON.parse(read(report)) as {
      numPassedTests: number;
      numFailedTests: number;
      testResults: { name: string }[];
    };
    expect(result.numFailedTests).toBe(0);
    expect(result.testResults).toHaveLength(variants.length);
    expect(result.numPassedTests).toBe(variants.length * 4);
  }, 120_000);

  it("produces code that type-checks under the package's settings and passes Biome", async () => {
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ extends: "../../tsconfig.check.json", include: ["*.ts"] }, null, 2),
    );
    const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
    await run(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { cwd: repo, env }).catch(
      (err: { stdout?: string }) => {
        throw new Error(`tsc failed on the generated code:\n${err.stdout ?? ""}`);
      },
    );
    rmSync(join(dir, "tsconfig.json"));
    const biome = join(repo, "node_modules", "@biomejs", "biome", "bin", "biome");
    await run(process.execPath, [biome, "check", dir], { cwd: repo, env }).catch(
      (err: { stdout?: string; stderr?: string }) => {
        throw new Error(`Biome failed on the generated code:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
      },
    );
  }, 120_000);
});
