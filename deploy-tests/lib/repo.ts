// Paths into the repository, and small readers shared by the deployment tests.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (deploy-tests/ sits right under it). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

export const repoPath = (...parts: string[]): string => path.join(repoRoot, ...parts);

export const readRepoFile = (relative: string): string => readFileSync(repoPath(relative), "utf8");

export const repoPathExists = (relative: string): boolean => existsSync(repoPath(relative));

/**
 * The app variables the AWS mode uses. The app reads these names (issue "AWS mode"); until
 * its env schemas declare them, the tests accept them on top of the schema keys.
 */
export const AWS_APP_VARS = [
  "QUEUE_DRIVER",
  "AWS_REGION",
  "AWS_ENDPOINT_URL",
  "SQS_QUEUE_URL",
  "SQS_DLQ_URL",
  "S3_BUCKET",
  "SECRETS_MANAGER_SECRET_ID",
] as const;

/** Standard AWS SDK variables (read by the SDK, not by the app's schema). */
export const AWS_SDK_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const;

/** Parses a dotenv-style file: `KEY=value` lines, `#` comments, no interpolation. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(trimmed);
    if (!match) throw new Error(`not a KEY=value line: ${line}`);
    out[match[1]!] = match[2]!.replace(/^"(.*)"$/, "$1");
  }
  return out;
}

export interface Workspace {
  name: string;
  dir: string;
  /** Names of the workspace packages it depends on at run time (`dependencies`). */
  workspaceDeps: string[];
}

/** The npm workspaces of the root package.json (globs of the form `dir/*`). */
export function listWorkspaces(): Map<string, Workspace> {
  const root = JSON.parse(readRepoFile("package.json")) as { workspaces: string[] };
  const byName = new Map<string, Workspace>();
  const all: Workspace[] = [];
  for (const glob of root.workspaces) {
    if (!glob.endsWith("/*")) throw new Error(`workspace glob ${glob} is not of the form dir/*`);
    const parent = glob.slice(0, -2);
    for (const entry of readdirSync(repoPath(parent), { withFileTypes: true })) {
      const manifest = path.join(parent, entry.name, "package.json");
      if (!entry.isDirectory() || !repoPathExists(manifest)) continue;
      const pkg = JSON.parse(readRepoFile(manifest)) as {
        name: string;
        dependencies?: Record<string, string>;
      };
      all.push({
        name: pkg.name,
        dir: `${parent}/${entry.name}`,
        workspaceDeps: Object.keys(pkg.dependencies ?? {}),
      });
    }
  }
  for (const ws of all) byName.set(ws.name, ws);
  for (const ws of all) ws.workspaceDeps = ws.workspaceDeps.filter((dep) => byName.has(dep));
  return byName;
}

/** A workspace and every workspace it needs at run time, transitively. */
export function runtimeClosure(name: string, workspaces = listWorkspaces()): Workspace[] {
  const seen = new Map<string, Workspace>();
  const visit = (n: string) => {
    const ws = workspaces.get(n);
    if (!ws) throw new Error(`no workspace named ${n}`);
    if (seen.has(n)) return;
    seen.set(n, ws);
    for (const dep of ws.workspaceDeps) visit(dep);
  };
  visit(name);
  return [...seen.values()];
}
