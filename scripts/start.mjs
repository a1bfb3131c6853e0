#!/usr/bin/env node
// `npm start`: the local pipeline in one command. Loads .env (creating one with generated
// secrets on first run), applies migrations, then runs the receiver and one worker as child
// processes, forwarding SIGINT/SIGTERM so both drain before exit.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const envFile = join(root, ".env");

if (!existsSync(envFile)) {
  const example = readFileSync(join(root, ".env.example"), "utf8")
    .replace(/^ZIXLY_ENCRYPTION_KEY=$/m, `ZIXLY_ENCRYPTION_KEY=k1:${randomBytes(32).toString("base64")}`)
    .replace(/^ZIXLY_ADMIN_TOKEN=$/m, `ZIXLY_ADMIN_TOKEN=${randomBytes(24).toString("hex")}`);
  writeFileSync(envFile, example, { mode: 0o600 });
  console.log(
    "[start] wrote .env with a generated encryption key and admin token (see ZIXLY_ADMIN_TOKEN there)",
  );
}

const fileEnv = {};
for (const line of readFileSync(envFile, "utf8").split("\n")) {
  const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
  if (match && match[2] !== "") fileEnv[match[1]] = match[2].replace(/^"(.*)"$/, "$1");
}
// Variables already set in the environment win over .env.
const env = { ...fileEnv, ...process.env };

const migrate = spawnSync(process.execPath, [join(root, "packages/db/dist/cli/migrate.js")], {
  env,
  stdio: "inherit",
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const children = [
  ["receiver", "apps/receiver/dist/main.js"],
  ["worker", "apps/worker/dist/main.js"],
].map(([name, script]) => {
  const child = spawn(process.execPath, [join(root, script)], { env, stdio: "inherit" });
  child.on("exit", (code, signal) => {
    console.log(`[start] ${name} exited (${signal ?? code})`);
    if (!stopping) shutdown("SIGTERM", code ?? 1);
  });
  return child;
});

let stopping = false;
let exitCode = 0;
let alive = children.length;
for (const child of children) child.on("exit", () => --alive === 0 && process.exit(exitCode));

function shutdown(signal, code = 0) {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}
process.on("SIGINT", () => shutdown("SIGTERM"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
