// terraform/: every file parses with HashiCorp's HCL parser, modules and environments agree
// on variables and outputs, the environments expose the app's AWS variables, and the
// resources keep their security properties. No terraform binary or AWS account needed.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: terraform and compose expressions are ${...} strings
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Block,
  isRequired,
  loadTfDir,
  referencesIn,
  refsUnder,
  renderTemplate,
  stringDefaults,
  type TfDir,
} from "./lib/hcl.js";
import { AWS_APP_VARS, parseEnvFile, readRepoFile, repoPath } from "./lib/repo.js";

const MODULES = ["queue", "storage", "secrets"] as const;
const ENVIRONMENTS = ["local", "aws"] as const;
/** Arguments of a module block that are not the module's variables. */
const MODULE_META_ARGS = new Set(["source", "version", "providers", "count", "for_each", "depends_on"]);

/** App variables each environment must output (real AWS needs no endpoint override). */
const EXPECTED_APP_VARS: Record<(typeof ENVIRONMENTS)[number], string[]> = {
  local: [...AWS_APP_VARS],
  aws: AWS_APP_VARS.filter((name) => name !== "AWS_ENDPOINT_URL"),
};

const modules = new Map<string, TfDir>();
const environments = new Map<string, TfDir>();

beforeAll(async () => {
  for (const name of MODULES) modules.set(name, await loadTfDir(repoPath("terraform/modules", name)));
  for (const name of ENVIRONMENTS)
    environments.set(name, await loadTfDir(repoPath("terraform/environments", name)));
});

const mod = (name: string): TfDir => modules.get(name)!;
const env = (name: string): TfDir => environments.get(name)!;
const resource = (dir: TfDir, address: string): Block => {
  const block = dir.resources.get(address);
  if (!block) throw new Error(`${path.relative(repoPath(), dir.dir)} has no resource ${address}`);
  return block;
};
/** The module directory a module block's `source` points at. */
const moduleDirOf = (dir: TfDir, block: Block): string => path.resolve(dir.dir, block.source as string);
/** The single nested block `name` of a block. */
const nested = (block: Block, name: string): Block => {
  const list = block[name] as Block[] | undefined;
  expect(list, `nested block ${name}`).toHaveLength(1);
  return list![0]!;
};

describe("terraform layout", () => {
  it("has the three modules and two environments, nothing else", () => {
    const list = (sub: string) =>
      readdirSync(repoPath("terraform", sub)).filter((f) =>
        statSync(repoPath("terraform", sub, f)).isDirectory(),
      );
    expect(list("modules").sort()).toEqual([...MODULES].sort());
    expect(list("environments").sort()).toEqual([...ENVIRONMENTS].sort());
  });

  it.each(MODULES)("module %s has main.tf, variables.tf, outputs.tf and versions.tf", (name) => {
    expect(mod(name).files).toEqual(
      expect.arrayContaining(["main.tf", "variables.tf", "outputs.tf", "versions.tf"]),
    );
  });

  it.each([...MODULES.map((m) => `modules/${m}`), ...ENVIRONMENTS.map((e) => `environments/${e}`)])(
    "%s pins the AWS provider to 5.x",
    async (relative) => {
      const dir = await loadTfDir(repoPath("terraform", relative));
      const aws = dir.terraform
        .flatMap((t) => (t.required_providers as Block[] | undefined) ?? [])
        .map((rp) => rp.aws);
      expect(aws).toHaveLength(1);
      expect(aws[0]).toMatchObject({ source: "hashicorp/aws" });
      expect(aws[0].version).toMatch(/^~>\s*5\.\d+$/);
    },
  );

  it("commits no state, no plan and no real variable file", () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name === ".terraform") offenders.push(full);
          else walk(full);
        } else if (/\.tfstate|\.tfplan$|\.tfvars(\.json)?$/.test(entry.name)) {
          offenders.push(full);
        }
      }
    };
    walk(repoPath("terraform"));
    expect(offenders).toEqual([]);
  });
});

describe.each(MODULES)("module %s", (name) => {
  it("declares every variable it uses, and uses every variable it declares", () => {
    const used = refsUnder(mod(name), "var");
    const declared = new Set(mod(name).variables.keys());
    expect(
      [...used].filter((v) => !declared.has(v)),
      "used but not declared",
    ).toEqual([]);
    expect(
      [...declared].filter((v) => !used.has(v)),
      "declared but never used",
    ).toEqual([]);
  });

  it("types and describes every variable and output", () => {
    for (const [variable, block] of mod(name).variables) {
      expect(block.type, `variable ${variable} type`).toBeDefined();
      expect(block.description, `variable ${variable} description`).toEqual(expect.any(String));
    }
    for (const [output, block] of mod(name).outputs) {
      expect(block.description, `output ${output} description`).toEqual(expect.any(String));
    }
  });

  it("only refers to its own locals and resources", () => {
    const dir = mod(name);
    expect([...refsUnder(dir, "local")].filter((l) => !dir.locals.has(l))).toEqual([]);
    expect([...refsUnder(dir, "module")]).toEqual([]);
    for (const ref of dir.references) {
      const [head, second] = ref.value.split(".");
      if (!head?.startsWith("aws_")) continue;
      expect(dir.resources.has(`${head}.${second}`), `${ref.value} in ${ref.file}`).toBe(true);
    }
  });

  it("validates its variables where a wrong value would only fail at apply time", () => {
    const validated = [...mod(name).variables].filter(([, block]) => Array.isArray(block.validation));
    expect(validated.length).toBeGreaterThan(0);
  });
});

describe("module queue", () => {
  it("outputs the queue and DLQ URLs and ARNs", () => {
    expect([...mod("queue").outputs.keys()]).toEqual(
      expect.arrayContaining(["queue_url", "queue_arn", "dlq_url", "dlq_arn"]),
    );
  });

  it("sends failed messages to the DLQ after var.max_receive_count receives", async () => {
    const jobs = resource(mod("queue"), "aws_sqs_queue.jobs");
    expect(jobs.redrive_policy).toMatch(/deadLetterTargetArn\s*=\s*aws_sqs_queue\.dlq\.arn/);
    expect(jobs.redrive_policy).toMatch(/maxReceiveCount\s*=\s*var\.max_receive_count/);
    expect(await referencesIn(jobs.redrive_policy)).toEqual(
      expect.arrayContaining(["aws_sqs_queue.dlq.arn", "var.max_receive_count"]),
    );
    const allow = resource(mod("queue"), "aws_sqs_queue_redrive_allow_policy.dlq");
    expect(await referencesIn(allow.redrive_allow_policy)).toContain("aws_sqs_queue.jobs.arn");
  });

  it.each(["jobs", "dlq"])("encrypts the %s queue at rest and long-polls", (queue) => {
    const block = resource(mod("queue"), `aws_sqs_queue.${queue}`);
    expect(block.receive_wait_time_seconds).toBe(20);
    // SSE-SQS by default, KMS when a key is given.
    expect(block.sqs_managed_sse_enabled).toMatch(/var\.kms_master_key_id|local\.use_kms/);
    expect(block.kms_master_key_id).toBe("${var.kms_master_key_id}");
    expect(mod("queue").locals.get("use_kms")).toBe("${var.kms_master_key_id != null}");
  });

  it("takes visibility timeout and retention from variables", () => {
    const jobs = resource(mod("queue"), "aws_sqs_queue.jobs");
    expect(jobs.visibility_timeout_seconds).toBe("${var.visibility_timeout_seconds}");
    expect(jobs.message_retention_seconds).toBe("${var.message_retention_seconds}");
    expect(isRequired(mod("queue").variables.get("max_receive_count")!)).toBe(false);
  });
});

describe("module storage", () => {
  it("outputs the bucket name and ARN", () => {
    expect([...mod("storage").outputs.keys()]).toEqual(expect.arrayContaining(["bucket_name", "bucket_arn"]));
  });

  it("blocks every kind of public access", () => {
    const pab = resource(mod("storage"), "aws_s3_bucket_public_access_block.this");
    expect(pab).toMatchObject({
      bucket: "${aws_s3_bucket.this.id}",
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("disables ACLs (BucketOwnerEnforced)", () => {
    const oc = resource(mod("storage"), "aws_s3_bucket_ownership_controls.this");
    expect(nested(oc, "rule").object_ownership).toBe("BucketOwnerEnforced");
  });

  it("encrypts objects by default (SSE-S3, or SSE-KMS with a key)", () => {
    const sse = resource(mod("storage"), "aws_s3_bucket_server_side_encryption_configuration.this");
    expect(sse.bucket).toBe("${aws_s3_bucket.this.id}");
    const byDefault = nested(nested(sse, "rule"), "apply_server_side_encryption_by_default");
    expect(byDefault.sse_algorithm).toMatch(/"aws:kms"/);
    expect(byDefault.sse_algorithm).toMatch(/"AES256"/);
  });

  it("expires old results after var.results_expiration_days", () => {
    const lc = resource(mod("storage"), "aws_s3_bucket_lifecycle_configuration.this");
    const rules = lc.rule as Block[];
    const expire = rules.find((rule) => Array.isArray(rule.expiration));
    expect(expire?.status).toBe("Enabled");
    expect(nested(expire!, "expiration").days).toBe("${var.results_expiration_days}");
    expect(nested(expire!, "filter").prefix).toBe("${var.results_prefix}");
  });

  it("makes versioning optional", () => {
    const versioning = resource(mod("storage"), "aws_s3_bucket_versioning.this");
    expect(versioning.count).toBe("${var.versioning_enabled ? 1 : 0}");
    expect(mod("storage").variables.get("versioning_enabled")?.default).toBe(false);
  });
});

describe("module secrets", () => {
  it("outputs the secret ARN and name", () => {
    expect([...mod("secrets").outputs.keys()]).toEqual(expect.arrayContaining(["secret_arn", "secret_name"]));
  });

  it("takes the secret's value only from a sensitive variable, never a literal", async () => {
    const variable = mod("secrets").variables.get("secret_values")!;
    expect(variable.sensitive).toBe(true);
    expect(variable.default ?? {}).toEqual({});
    const version = resource(mod("secrets"), "aws_secretsmanager_secret_version.app");
    expect(version.secret_string).toBe("${jsonencode(var.secret_values)}");
    // Writing the value is opt-in; by default it is set out of band.
    expect(version.count).toBe("${var.manage_secret_version ? 1 : 0}");
    expect(mod("secrets").variables.get("manage_secret_version")?.default).toBe(false);
    expect(await referencesIn(resource(mod("secrets"), "aws_secretsmanager_secret.app").kms_key_id)).toEqual([
      "var.kms_key_id",
    ]);
  });
});

describe("no secret values in terraform", () => {
  it.each([...MODULES.map((m) => `modules/${m}`), ...ENVIRONMENTS.map((e) => `environments/${e}`)])(
    "%s: sensitive variables have no (non-empty) default",
    async (relative) => {
      const dir = await loadTfDir(repoPath("terraform", relative));
      for (const [name, block] of dir.variables) {
        if (block.sensitive !== true) continue;
        const dflt = block.default;
        expect(
          dflt === undefined || dflt === null || (typeof dflt === "object" && Object.keys(dflt).length === 0),
          name,
        ).toBe(true);
      }
    },
  );
});

describe.each(ENVIRONMENTS)("environment %s", (name) => {
  it("calls the three modules by relative source", () => {
    const dir = env(name);
    expect([...dir.modules.keys()].sort()).toEqual(["queue", "secrets", "storage"]);
    for (const [moduleName, block] of dir.modules) {
      expect(block.source).toBe(`../../modules/${moduleName}`);
      expect(existsSync(moduleDirOf(dir, block))).toBe(true);
    }
  });

  it("passes each module only variables it declares, and every required one", async () => {
    const dir = env(name);
    for (const [moduleName, block] of dir.modules) {
      const target = await loadTfDir(moduleDirOf(dir, block));
      const given = Object.keys(block).filter((arg) => !MODULE_META_ARGS.has(arg));
      const unknown = given.filter((arg) => !target.variables.has(arg));
      expect(unknown, `module ${moduleName}: arguments the module does not declare`).toEqual([]);
      const required = [...target.variables].filter(([, v]) => isRequired(v)).map(([v]) => v);
      expect(
        required.filter((v) => !given.includes(v)),
        `module ${moduleName}: required variables not given`,
      ).toEqual([]);
    }
  });

  it("refers only to module outputs that exist", async () => {
    const dir = env(name);
    for (const ref of dir.references) {
      const [root, moduleName, output] = ref.value.split(".");
      if (root !== "module") continue;
      const block = dir.modules.get(moduleName!);
      expect(block, `${ref.value} in ${ref.file}: no module ${moduleName}`).toBeDefined();
      const target = await loadTfDir(moduleDirOf(dir, block!));
      expect(target.outputs.has(output!), `${ref.value} in ${ref.file}: module has no output ${output}`).toBe(
        true,
      );
    }
  });

  it("declares every variable and local it uses", () => {
    const dir = env(name);
    expect([...refsUnder(dir, "var")].filter((v) => !dir.variables.has(v))).toEqual([]);
    expect([...refsUnder(dir, "local")].filter((l) => !dir.locals.has(l))).toEqual([]);
    for (const ref of dir.references) {
      const [root, type, dataName] = ref.value.split(".");
      if (root === "data") expect(dir.data.has(`${type}.${dataName}`), ref.value).toBe(true);
    }
  });

  it("outputs the app's AWS variables one to one (lower-cased names) and as app_env", () => {
    const dir = env(name);
    const appEnv = dir.outputs.get("app_env")?.value as Record<string, unknown> | undefined;
    expect(appEnv, "output app_env").toBeDefined();
    for (const variable of EXPECTED_APP_VARS[name]) {
      const output = dir.outputs.get(variable.toLowerCase());
      expect(output, `output ${variable.toLowerCase()}`).toBeDefined();
      expect(output!.description).toMatch(new RegExp(`^${variable}\\b`));
      expect(appEnv![variable], `app_env.${variable}`).toBe(output!.value);
    }
    expect(Object.keys(appEnv!).sort()).toEqual([...EXPECTED_APP_VARS[name]].sort());
    expect(appEnv!.QUEUE_DRIVER).toBe("sqs");
  });
});

describe("environment local (LocalStack)", () => {
  it("points the provider's sqs, s3 and secretsmanager endpoints at var.localstack_endpoint", () => {
    const providers = env("local").providers.get("aws")!;
    expect(providers).toHaveLength(1);
    const provider = providers[0]!;
    expect(nested(provider, "endpoints")).toEqual({
      sqs: "${var.localstack_endpoint}",
      s3: "${var.localstack_endpoint}",
      secretsmanager: "${var.localstack_endpoint}",
    });
    expect(provider).toMatchObject({
      access_key: "test",
      secret_key: "test",
      s3_use_path_style: true,
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
    });
  });

  it("needs the secret's content at apply time: sensitive, no default", () => {
    const variable = env("local").variables.get("secret_values")!;
    expect(variable.sensitive).toBe(true);
    expect(isRequired(variable)).toBe(true);
  });

  it("creates what scripts/localstack/app-sqs.env hands the app", async () => {
    const local = env("local");
    const vars = stringDefaults(local);
    const appFile = parseEnvFile(readRepoFile("scripts/localstack/app-sqs.env"));
    // Names follow from the environment's defaults through the module arguments.
    const argOf = (moduleName: string, arg: string) =>
      renderTemplate(local.modules.get(moduleName)![arg] as string, vars);
    const queueVars = { ...stringDefaults(mod("queue")), name_prefix: argOf("queue", "name_prefix") };
    const jobsName = renderTemplate(resource(mod("queue"), "aws_sqs_queue.jobs").name as string, queueVars);
    const dlqName = renderTemplate(resource(mod("queue"), "aws_sqs_queue.dlq").name as string, queueVars);
    const accountPath = `/queue/${vars.region}/000000000000/`;

    expect(appFile.AWS_REGION).toBe(vars.region);
    expect(appFile.AWS_ENDPOINT_URL).toBe(vars.app_endpoint_url);
    expect(appFile.SQS_QUEUE_URL).toBe(`${vars.app_endpoint_url}${accountPath}${jobsName}`);
    expect(appFile.SQS_DLQ_URL).toBe(`${vars.app_endpoint_url}${accountPath}${dlqName}`);
    expect(appFile.S3_BUCKET).toBe(argOf("storage", "bucket_name"));
    expect(appFile.SECRETS_MANAGER_SECRET_ID).toBe(argOf("secrets", "name"));
    expect(local.outputs.get("secrets_manager_secret_id")!.value).toBe("${module.secrets.secret_name}");
    // The file holds app_env minus QUEUE_DRIVER (compose sets that), plus LocalStack's dummy credentials.
    const appEnvKeys = Object.keys(local.outputs.get("app_env")!.value).filter((k) => k !== "QUEUE_DRIVER");
    expect(Object.keys(appFile).sort()).toEqual(
      [...appEnvKeys, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].sort(),
    );
    expect(appFile.AWS_ACCESS_KEY_ID).toBe("test");
    expect(appFile.AWS_SECRET_ACCESS_KEY).toBe("test");
  });
});

describe("environment aws", () => {
  it("has a region variable and a real provider (no endpoint overrides, no static keys)", () => {
    const dir = env("aws");
    expect(isRequired(dir.variables.get("region")!)).toBe(true);
    const provider = dir.providers.get("aws")![0]!;
    expect(provider.region).toBe("${var.region}");
    for (const key of ["endpoints", "access_key", "secret_key", "skip_credentials_validation"]) {
      expect(provider[key], key).toBeUndefined();
    }
  });

  it("documents an optional remote backend, commented out", () => {
    const versions = readRepoFile("terraform/environments/aws/versions.tf");
    expect(versions).toMatch(/^\s*#\s*backend "s3" \{/m);
    expect(env("aws").terraform.some((block) => "backend" in block)).toBe(false);
  });

  it("leaves the secret's value out of band by default", () => {
    expect(env("aws").variables.get("manage_secret_version")?.default).toBe(false);
    expect(env("aws").modules.get("secrets")!.manage_secret_version).toBe("${var.manage_secret_version}");
  });
});
