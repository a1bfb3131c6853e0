import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Reads `.env` in `dir` (creating it from `.env.example` with a generated encryption key and
 * admin token on first use) and returns it merged under the process environment (variables
 * already set win).
 */
export function loadEnvFile(dir: string, create = true): { env: NodeJS.ProcessEnv; created: boolean } {
  const file = join(dir, ".env");
  let created = false;
  if (!existsSync(file) && create && existsSync(join(dir, ".env.example"))) {
    const example = readFileSync(join(dir, ".env.example"), "utf8")
      .replace(/^ZIXLY_ENCRYPTION_KEY=$/m, `ZIXLY_ENCRYPTION_KEY=k1:${randomBytes(32).toString("base64")}`)
      .replace(/^ZIXLY_ADMIN_TOKEN=$/m, `ZIXLY_ADMIN_TOKEN=${randomBytes(24).toString("hex")}`);
    writeFileSync(file, example, { mode: 0o600 });
    created = true;
  }
  const fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (match?.[1] && match[2] !== undefined && match[2] !== "")
        fromFile[match[1]] = match[2].replace(/^"(.*)"$/, "$1");
    }
  }
  return { env: { ...fromFile, ...process.env }, created };
}
