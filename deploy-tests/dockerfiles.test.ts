// apps/receiver/Dockerfile and apps/worker/Dockerfile, read line by line: multi-stage, a
// non-root runtime with a healthcheck on the app's port, every COPY source present in the
// build context (the repository root less .dockerignore), and the runtime stage carrying
// the compiled output of every workspace the app needs.
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { ReceiverEnv } from "../apps/receiver/src/env.js";
import { WorkerEnv } from "../apps/worker/src/env.js";
import { parseComposeYaml, type Service, serviceEnvironment, servicePorts } from "./lib/compose.js";
import { copiesOf, execForm, parseDockerfile, type Stage } from "./lib/dockerfile.js";
import { isIgnored, parseDockerignore } from "./lib/dockerignore.js";
import { listWorkspaces, readRepoFile, repoPath, repoPathExists, runtimeClosure } from "./lib/repo.js";

const APPS = {
  receiver: { pkg: "@zixly/receiver", schema: ReceiverEnv as z.ZodObject, portVar: "PORT" },
  worker: { pkg: "@zixly/worker", schema: WorkerEnv as z.ZodObject, portVar: "WORKER_METRICS_PORT" },
} as const;
type App = keyof typeof APPS;
const appNames = Object.keys(APPS) as App[];

const dockerignore = parseDockerignore(readRepoFile(".dockerignore"));
const compose = parseComposeYaml(readRepoFile("docker-compose.pipeline.yml"));

function load(app: App) {
  const { stages } = parseDockerfile(readRepoFile(`apps/${app}/Dockerfile`));
  const runtime = stages.at(-1)!;
  const find = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
  return { stages, runtime, find };
}

/** The app's port: the schema's default (PORT 3000, WORKER_METRICS_PORT 9464). */
const appPort = (app: App): number =>
  (APPS[app].schema.shape[APPS[app].portVar] as z.ZodType).parse(undefined) as number;

describe.each(appNames)("apps/%s/Dockerfile", (app) => {
  it("is multi-stage, ending in a node:20-bookworm-slim runtime", () => {
    const { stages, runtime } = load(app);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime.image).toBe("node:20-bookworm-slim");
    const names = stages.map((s) => s.name).filter(Boolean);
    expect(new Set(names).size, "stage names are unique").toBe(names.length);
  });

  it("installs from the root lockfile with npm ci", () => {
    const { stages } = load(app);
    const installs = stages.filter((stage) =>
      stage.instructions.some((i) => i.keyword === "RUN" && /\bnpm ci\b/.test(i.args)),
    );
    expect(installs.length).toBeGreaterThanOrEqual(1);
    for (const stage of installs) {
      const copied = copiesOf(stage).flatMap((c) => (c.from ? [] : c.sources));
      expect(copied, `stage ${stage.name} copies the lockfile before npm ci`).toEqual(
        expect.arrayContaining(["package.json", "package-lock.json"]),
      );
    }
  });

  it("builds the app and its workspaces with turbo", () => {
    const { stages } = load(app);
    const build = stages
      .flatMap((s) => s.instructions)
      .find((i) => i.keyword === "RUN" && /\bturbo run build\b/.test(i.args));
    expect(build?.args).toContain(`--filter=${APPS[app].pkg}...`);
  });

  it("copies every workspace manifest into the install stages", () => {
    // The manifests stage copies whole workspace folders and keeps the package.json files, so a
    // new workspace needs no Dockerfile change; the root's workspace globs must stay dir/*.
    const { stages } = load(app);
    const root = JSON.parse(readRepoFile("package.json")) as { workspaces: string[] };
    const manifests = stages.find((s) => s.name === "manifests")!;
    const copied = copiesOf(manifests).flatMap((c) => c.sources);
    for (const glob of root.workspaces) expect(copied).toContain(glob.replace(/\/\*$/, ""));
    expect(manifests.instructions.find((i) => i.keyword === "RUN")?.args).toMatch(/-name package\.json/);
  });

  it("installs only production dependencies in the runtime stage", () => {
    const { runtime, find } = load(app);
    const install = find(runtime, "RUN").find((i) => /\bnpm ci\b/.test(i.args));
    expect(install?.args).toMatch(/--omit=dev\b/);
    expect(install?.args).toMatch(/--ignore-scripts\b/);
  });

  it("copies the compiled output of every workspace the app needs at run time, and the migrations", () => {
    const { runtime } = load(app);
    const fromBuild = copiesOf(runtime).filter((c) => c.from === "build");
    const copiedDirs = fromBuild.flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, "")));
    for (const ws of runtimeClosure(APPS[app].pkg)) expect(copiedDirs, ws.name).toContain(`${ws.dir}/dist`);
    for (const copy of fromBuild) {
      expect(copy.dest, `COPY line ${copy.line} keeps the path`).toBe(
        copy.sources[0]!.replace(/^\/app\//, ""),
      );
    }
    const plain = copiesOf(runtime).filter((c) => !c.from);
    expect(plain.flatMap((c) => c.sources)).toContain("prisma/migrations");
  });

  it("runs as the unprivileged node user", () => {
    const { runtime, find } = load(app);
    const users = find(runtime, "USER");
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(":")[0];
    expect(["root", "0"]).not.toContain(user);
    expect(user).toBe("node");
  });

  it("exposes the app's port, sets it, and checks /health on it", () => {
    const { runtime, find } = load(app);
    const port = appPort(app);
    expect(find(runtime, "EXPOSE").map((i) => i.args)).toEqual([String(port)]);
    const env = find(runtime, "ENV")
      .map((i) => i.args)
      .join(" ");
    expect(env).toMatch(new RegExp(`\\b${APPS[app].portVar}=${port}\\b`));
    const healthchecks = find(runtime, "HEALTHCHECK");
    expect(healthchecks).toHaveLength(1);
    const cmd = healthchecks[0]!.args.replace(/^(--[a-z-]+=\S+\s+)*CMD\s+/, "");
    const script = execForm(cmd).join(" ");
    expect(script).toContain("/health");
    expect(script).toContain(`process.env.${APPS[app].portVar} || ${port}`);
  });

  it("starts the app's compiled entry point", () => {
    const { runtime, find } = load(app);
    const cmd = execForm(find(runtime, "CMD").at(-1)!.args);
    // V8 flags the app ships with: its package.json's "nodeFlags" (the benchmark reads them too).
    const { nodeFlags = [] } = JSON.parse(readRepoFile(`apps/${app}/package.json`)) as {
      nodeFlags?: string[];
    };
    expect(cmd).toEqual(["node", ...nodeFlags, `apps/${app}/dist/main.js`]);
    expect(repoPathExists(`apps/${app}/src/main.ts`)).toBe(true);
  });

  it("copies only sources that exist and are in the build context", () => {
    const { stages } = load(app);
    const names = new Set<string>();
    for (const stage of stages) {
      for (const copy of copiesOf(stage)) {
        if (copy.from) {
          expect(names.has(copy.from), `line ${copy.line}: --from=${copy.from} is an earlier stage`).toBe(
            true,
          );
          continue;
        }
        for (const source of copy.sources) {
          expect(repoPathExists(source), `line ${copy.line}: ${source} exists`).toBe(true);
          expect(
            isIgnored(dockerignore, source),
            `line ${copy.line}: ${source} is excluded by .dockerignore`,
          ).toBe(false);
        }
      }
      if (stage.name) names.add(stage.name);
    }
  });

  it("agrees with docker-compose.pipeline.yml on the port", () => {
    const svc = compose.services[app] as Service;
    const port = appPort(app);
    expect(Number(serviceEnvironment(svc)[APPS[app].portVar])).toBe(port);
    const composePorts = [
      ...servicePorts(svc).map((p) => p.target),
      ...((svc.expose ?? []) as string[]).map(Number),
    ];
    expect(composePorts).toEqual([port]);
  });
});

describe(".dockerignore", () => {
  it.each([
    "node_modules",
    "apps/receiver/node_modules",
    "packages/core/dist",
    "apps/worker/dist/main.js",
    "packages/db/src/generated/prisma/client.ts",
    "packages/db/tsconfig.tsbuildinfo",
    ".env",
    ".env.local",
    ".git",
    "terraform/environments/aws/terraform.tfstate",
  ])("keeps %s out of the build context", (file) => {
    expect(isIgnored(dockerignore, file)).toBe(true);
  });

  it.each([
    "package.json",
    "package-lock.json",
    "tsconfig.base.json",
    "turbo.json",
    "prisma.config.ts",
    "prisma/schema.prisma",
    "prisma/migrations",
    "apps/receiver/src/main.ts",
    "packages/db/src/cli/migrate.ts",
    "packages/core/package.json",
    ".env.example",
  ])("keeps %s in the build context", (file) => {
    expect(isIgnored(dockerignore, file)).toBe(false);
  });

  it("matches the way Docker does (sanity check of the matcher)", () => {
    const rules = parseDockerignore("**/dist\n*.md\n!README.md\nsecrets/\n");
    expect(isIgnored(rules, "dist")).toBe(true);
    expect(isIgnored(rules, "a/b/dist/x.js")).toBe(true);
    expect(isIgnored(rules, "a/distance.js")).toBe(false);
    expect(isIgnored(rules, "notes.md")).toBe(true);
    expect(isIgnored(rules, "docs/notes.md")).toBe(false);
    expect(isIgnored(rules, "README.md")).toBe(false);
    expect(isIgnored(rules, "secrets/key")).toBe(true);
  });
});

describe("the Dockerfile reader used by these tests", () => {
  it("joins continuation lines, skips comments and splits COPY flags", () => {
    const { stages } = parseDockerfile(
      [
        "# comment",
        "FROM node:20 AS deps",
        "RUN a \\",
        "  # inner comment",
        "  && b",
        "FROM deps AS build",
        'COPY --from=deps --chown=node:node ["/a b", "/c"]',
        "COPY x y z/",
      ].join("\n"),
    );
    expect(stages.map((s) => [s.image, s.name])).toEqual([
      ["node:20", "deps"],
      ["deps", "build"],
    ]);
    expect(stages[0]!.instructions[0]!.args).toBe("a && b");
    expect(copiesOf(stages[1]!)).toEqual([
      { from: "deps", sources: ["/a b"], dest: "/c", line: 7 },
      { from: undefined, sources: ["x", "y"], dest: "z/", line: 8 },
    ]);
  });

  it("reads the repository's Dockerfiles as files", () => {
    for (const app of appNames) expect(statSync(repoPath(`apps/${app}/Dockerfile`)).isFile()).toBe(true);
    expect(listWorkspaces().has("@zixly/receiver")).toBe(true);
  });
});
