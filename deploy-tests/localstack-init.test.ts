// scripts/localstack/init-aws.sh, run for real with a stand-in terraform (TF_BIN) that
// records its calls: no LocalStack and no terraform needed. Checks what the hook hands
// terraform (working copy, endpoint, the secret's content from the environment) and what
// it leaves behind (app env file, ready marker), and that it fails without secrets.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnvFile, readRepoFile, repoPath } from "./lib/repo.js";

const SCRIPT = repoPath("scripts/localstack/init-aws.sh");
const hasTools = ["bash", "python3"].every(
  (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0,
);

const APP_ENV = {
  QUEUE_DRIVER: "sqs",
  AWS_REGION: "us-east-1",
  AWS_ENDPOINT_URL: "http://localstack:4566",
  SQS_QUEUE_URL: "http://localstack:4566/queue/us-east-1/000000000000/zixly-local-jobs",
  SQS_DLQ_URL: "http://localstack:4566/queue/us-east-1/000000000000/zixly-local-jobs-dlq",
  S3_BUCKET: "zixly-local-results",
  SECRETS_MANAGER_SECRET_ID: "zixly-local/app",
};

/** A terraform stand-in: appends each call (args + the secret variable) to a log. */
const STUB = `#!/usr/bin/env bash
set -euo pipefail
printf '%s\\t%s\\n' "$*" "\${TF_VAR_secret_values:-}" >> "$STUB_LOG"
case " $* " in
  *" output -json app_env "*) printf '%s' '${JSON.stringify(APP_ENV)}' ;;
  *" apply "*) [ -z "\${STUB_FAIL_APPLY:-}" ] || { echo "apply failed" >&2; exit 1; } ;;
esac
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "zixly-init-aws-"));
  writeFileSync(path.join(dir, "terraform"), STUB);
  chmodSync(path.join(dir, "terraform"), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(extraEnv: Record<string, string | undefined>) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    TF_BIN: path.join(dir, "terraform"),
    STUB_LOG: path.join(dir, "calls.log"),
    ZIXLY_TERRAFORM_DIR: repoPath("terraform"),
    ZIXLY_TF_WORKDIR: path.join(dir, "work"),
    ZIXLY_CACHE_DIR: path.join(dir, "cache"),
    ZIXLY_READY_FILE: path.join(dir, "ready"),
  };
  for (const [key, value] of Object.entries(extraEnv)) if (value !== undefined) env[key] = value;
  const result = spawnSync("bash", [SCRIPT], { env, encoding: "utf8", timeout: 30_000 });
  const calls = existsSync(env.STUB_LOG!)
    ? readFileSync(env.STUB_LOG!, "utf8")
        .trim()
        .split("\n")
        .map((line) => {
          const [args, secret] = line.split("\t");
          return { args: args!.split(" "), secret: secret ?? "" };
        })
    : [];
  return { ...result, calls };
}

const SECRETS = {
  ZIXLY_ENCRYPTION_KEY: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
  ZIXLY_ADMIN_TOKEN: "admin-token-for-tests-0123456789",
};

describe("scripts/localstack/init-aws.sh", () => {
  it("is an executable bash script, as LocalStack's init hooks must be", () => {
    expect(statSync(SCRIPT).mode & 0o111).not.toBe(0);
    expect(readRepoFile("scripts/localstack/init-aws.sh").split("\n")[0]).toBe("#!/usr/bin/env bash");
  });

  it.skipIf(!hasTools)(
    "applies terraform/environments/local in a working copy and writes the app's env",
    () => {
      const result = run({
        ...SECRETS,
        XERO_CLIENT_SECRET: "xero-secret",
        LOCALSTACK_ENDPOINT: "http://localhost:4566",
      });
      expect(result.status, result.stderr).toBe(0);

      const envDir = path.join(dir, "work/environments/local");
      expect(result.calls.map((c) => c.args.slice(0, 2))).toEqual([
        [`-chdir=${envDir}`, "init"],
        [`-chdir=${envDir}`, "apply"],
        [`-chdir=${envDir}`, "output"],
      ]);
      const apply = result.calls[1]!;
      expect(apply.args).toEqual(
        expect.arrayContaining([
          "-auto-approve",
          "-input=false",
          "-var",
          "localstack_endpoint=http://localhost:4566",
        ]),
      );
      // The copy holds the modules too, so the environment's ../../modules sources resolve.
      expect(existsSync(path.join(dir, "work/modules/queue/main.tf"))).toBe(true);
      expect(existsSync(path.join(envDir, "main.tf"))).toBe(true);

      // The secret's content comes from the environment, keyed by the app's variable names.
      expect(JSON.parse(apply.secret)).toEqual({ ...SECRETS, XERO_CLIENT_SECRET: "xero-secret" });

      expect(parseEnvFile(readFileSync(path.join(dir, "work/app.env"), "utf8"))).toEqual(APP_ENV);
      expect(existsSync(path.join(dir, "ready"))).toBe(true);
      // Secret values never reach the log.
      expect(result.stderr).not.toContain(SECRETS.ZIXLY_ADMIN_TOKEN);
    },
  );

  it.skipIf(!hasTools)("prints the same app configuration that app-sqs.env hands the containers", () => {
    const result = run(SECRETS);
    expect(result.status, result.stderr).toBe(0);
    const written = parseEnvFile(readFileSync(path.join(dir, "work/app.env"), "utf8"));
    const composeFile = parseEnvFile(readRepoFile("scripts/localstack/app-sqs.env"));
    for (const [key, value] of Object.entries(composeFile)) {
      if (key in written) expect(written[key], key).toBe(value);
    }
  });

  it.skipIf(!hasTools)("refuses to run without the secrets, and does not mark LocalStack ready", () => {
    const result = run({});
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/ZIXLY_ENCRYPTION_KEY/);
    expect(result.calls).toEqual([]);
    expect(existsSync(path.join(dir, "ready"))).toBe(false);
  });

  it.skipIf(!hasTools)("does not mark LocalStack ready when terraform fails", () => {
    writeFileSync(path.join(dir, "ready"), "");
    const result = run({ ...SECRETS, STUB_FAIL_APPLY: "1" });
    expect(result.status).not.toBe(0);
    expect(existsSync(path.join(dir, "ready"))).toBe(false);
  });

  it.skipIf(!hasTools)("takes TF_VAR_secret_values as given", () => {
    const result = run({ TF_VAR_secret_values: '{"ZIXLY_ENCRYPTION_KEY":"k"}' });
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.calls[1]!.secret)).toEqual({ ZIXLY_ENCRYPTION_KEY: "k" });
  });
});
