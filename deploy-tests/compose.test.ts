// docker-compose.pipeline.yml: valid against the Compose Specification's JSON schema (as
// shipped in the dclint package), and consistent with the apps: variable names and
// required variables from their zod schemas, ports, healthchecks, dependencies.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: terraform and compose expressions are ${...} strings
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { ReceiverEnv } from "../apps/receiver/src/env.js";
import { WorkerEnv } from "../apps/worker/src/env.js";
import {
  activeServices,
  type ComposeDoc,
  healthcheckCommand,
  InterpolationError,
  interpolateDoc,
  parseComposeYaml,
  type Service,
  serviceDependsOn,
  serviceEnvFiles,
  serviceEnvironment,
  servicePorts,
} from "./lib/compose.js";
import {
  AWS_APP_VARS,
  AWS_SDK_VARS,
  parseEnvFile,
  readRepoFile,
  repoPath,
  repoPathExists,
} from "./lib/repo.js";

const COMPOSE_FILE = "docker-compose.pipeline.yml";
const rawText = readRepoFile(COMPOSE_FILE);
const raw = parseComposeYaml(rawText);

/** What a developer's .env holds (throw-away values). */
const DOTENV = {
  ZIXLY_ENCRYPTION_KEY: `k1:${randomBytes(32).toString("base64")}`,
  ZIXLY_ADMIN_TOKEN: randomBytes(24).toString("hex"),
  POSTGRES_PASSWORD: randomBytes(16).toString("hex"),
  GRAFANA_ADMIN_PASSWORD: randomBytes(16).toString("hex"),
};

const MODES = {
  bullmq: { env: { ...DOTENV }, profiles: [] as string[] },
  sqs: { env: { ...DOTENV, QUEUE_DRIVER: "sqs" }, profiles: ["aws"] },
} as const;
type Mode = keyof typeof MODES;
const modeNames = Object.keys(MODES) as Mode[];

const resolved = (mode: Mode): ComposeDoc => interpolateDoc(raw, MODES[mode].env);
const services = (mode: Mode): Record<string, Service> =>
  activeServices(resolved(mode), MODES[mode].profiles);

const APPS = {
  receiver: { schema: ReceiverEnv as z.ZodObject, portVar: "PORT" },
  worker: { schema: WorkerEnv as z.ZodObject, portVar: "WORKER_METRICS_PORT" },
} as const;
type App = keyof typeof APPS;
const appNames = Object.keys(APPS) as App[];

const schemaKeys = (app: App): string[] => Object.keys(APPS[app].schema.shape);
/** Variables the app cannot start without: their schema rejects `undefined`. */
const requiredKeys = (app: App): string[] =>
  Object.entries(APPS[app].schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([key]) => key);
const schemaDefault = (app: App, key: string): unknown =>
  (APPS[app].schema.shape[key] as z.ZodType).parse(undefined);

/** The environment a service's container gets: env_file entries that exist, then `environment`. */
function containerEnv(svc: Service): Record<string, string | undefined> {
  const fromFiles: Record<string, string> = {};
  for (const file of serviceEnvFiles(svc)) {
    if (!repoPathExists(file.path)) {
      if (file.required) throw new Error(`required env_file ${file.path} does not exist`);
      continue;
    }
    Object.assign(fromFiles, parseEnvFile(readRepoFile(file.path)));
  }
  return { ...fromFiles, ...serviceEnvironment(svc) };
}

/** A one-shot service runs to completion (`restart: "no"`); every other one keeps running. */
const isOneShot = (svc: Service): boolean => svc.restart === "no";

describe("compose file against the Compose Specification schema", () => {
  const require = createRequire(import.meta.url);
  const schemaPath = path.join(
    path.dirname(require.resolve("dclint/package.json")),
    "schemas/compose.schema.json",
  );
  // The schema is draft-07 but names its meta-schema by an https URL Ajv does not register;
  // it is not written for Ajv's strict mode (union types, annotations), as dclint also notes.
  const { $schema: _metaSchema, ...schema } = require(schemaPath) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  const addFormats = addFormatsModule as unknown as (instance: Ajv) => Ajv;
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const errorsOf = () => ajv.errorsText(validate.errors, { separator: "\n" });

  it("is the Compose Specification schema", () => {
    const schema = require(schemaPath) as { title: string; properties: Record<string, unknown> };
    expect(schema.title).toBe("Compose Specification");
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["services", "volumes", "include"]),
    );
  });

  it("validates as written", () => {
    expect(validate(raw), errorsOf()).toBe(true);
  });

  it.each(modeNames)("validates after interpolation (%s mode)", (mode) => {
    expect(validate(resolved(mode)), errorsOf()).toBe(true);
  });

  it("the schema rejects a broken file (sanity check of the validator)", () => {
    const broken = structuredClone(raw);
    broken.services.worker.deploy.replicas = "two";
    broken.services.receiver.depends_on.migrate.condition = "service_done";
    expect(validate(broken)).toBe(false);
  });
});

describe("secrets", () => {
  it.each(Object.keys(DOTENV))("refuses to start without %s, saying where to set it", (name) => {
    const env: Record<string, string> = { ...DOTENV };
    delete env[name];
    expect(() => interpolateDoc(raw, env)).toThrow(InterpolationError);
    expect(() => interpolateDoc(raw, env)).toThrow(new RegExp(`${name}.*set it in \\.env`));
  });

  it("takes every secret-looking value by ${VAR:?...} interpolation, never as a literal", () => {
    const offenders: string[] = [];
    for (const [name, svc] of Object.entries(raw.services as Record<string, Service>)) {
      for (const [key, value] of Object.entries(serviceEnvironment(svc))) {
        if (!/(PASSWORD|TOKEN|SECRET|ENCRYPTION_KEY|ACCESS_KEY)/.test(key)) continue;
        if (!/^\$\{[A-Z0-9_]+:\?set it in \.env\}$/.test(value ?? ""))
          offenders.push(`${name}.${key}=${value}`);
      }
    }
    expect(offenders).toEqual([]);
    expect(rawText).toMatch(/ZIXLY_ENCRYPTION_KEY: \$\{ZIXLY_ENCRYPTION_KEY:\?set it in \.env\}/);
    expect(rawText).toMatch(/ZIXLY_ADMIN_TOKEN: \$\{ZIXLY_ADMIN_TOKEN:\?set it in \.env\}/);
  });
});

describe("services", () => {
  it("runs the pipeline, with LocalStack only in the aws profile", () => {
    expect(Object.keys(services("bullmq")).sort()).toEqual(
      ["grafana", "migrate", "postgres", "prometheus", "receiver", "redis", "worker"].sort(),
    );
    expect(Object.keys(services("sqs")).sort()).toEqual(
      ["grafana", "localstack", "migrate", "postgres", "prometheus", "receiver", "redis", "worker"].sort(),
    );
    expect(raw.services.localstack.profiles).toEqual(["aws"]);
  });

  it.each(modeNames)("gives every long-running service a healthcheck (%s mode)", (mode) => {
    for (const [name, svc] of Object.entries(services(mode))) {
      if (isOneShot(svc)) continue;
      expect(healthcheckCommand(svc), `${name} healthcheck`).not.toBe("");
    }
  });

  it.each(modeNames)("makes depends_on conditions point at services that can meet them (%s mode)", (mode) => {
    const all = services(mode);
    for (const [name, svc] of Object.entries(all)) {
      for (const [target, dep] of Object.entries(serviceDependsOn(svc))) {
        const targetSvc = resolved(mode).services[target] as Service | undefined;
        expect(targetSvc, `${name} depends on unknown service ${target}`).toBeDefined();
        if (!(target in all)) {
          // A dependency on a service outside the active profiles must be optional.
          expect(dep.required, `${name} → ${target} (not in this profile)`).toBe(false);
          continue;
        }
        if (dep.condition === "service_healthy") {
          expect(healthcheckCommand(targetSvc!), `${name} waits for ${target} to be healthy`).not.toBe("");
        }
        if (dep.condition === "service_completed_successfully") {
          expect(isOneShot(targetSvc!), `${name} waits for ${target} to complete`).toBe(true);
        }
      }
    }
  });

  it("publishes ports on the loopback interface only", () => {
    for (const [name, svc] of Object.entries(services("sqs"))) {
      for (const port of servicePorts(svc)) expect(port.hostIp, `${name} ${port.target}`).toBe("127.0.0.1");
    }
  });

  it("builds both app images from the repository root", () => {
    for (const name of ["receiver", "worker", "migrate"]) {
      const build = raw.services[name].build as { context: string; dockerfile: string };
      expect(build.context).toBe(".");
      expect(repoPathExists(build.dockerfile), build.dockerfile).toBe(true);
    }
    expect(raw.services.migrate.image).toBe(raw.services.receiver.image);
  });
});

describe("redis, postgres and migrations", () => {
  it("runs Redis 7 with noeviction, a volume and a ping healthcheck", () => {
    const redis = raw.services.redis as Service;
    expect(redis.image).toMatch(/^redis:7\b/);
    expect(redis.command.join(" ")).toContain("--maxmemory-policy noeviction");
    expect(redis.volumes.some((v: string) => v.endsWith(":/data"))).toBe(true);
    expect(healthcheckCommand(redis)).toBe("redis-cli ping");
  });

  it("runs Postgres 15 or 16 with the zixly database, a volume and pg_isready", () => {
    const postgres = raw.services.postgres as Service;
    expect(postgres.image).toMatch(/^postgres:1[56]\b/);
    expect(postgres.environment.POSTGRES_DB).toBe("zixly");
    expect(postgres.volumes.some((v: string) => v.endsWith(":/var/lib/postgresql/data"))).toBe(true);
    expect(healthcheckCommand(postgres)).toMatch(/^pg_isready\b/);
  });

  it("points the apps' DATABASE_URL and REDIS_URL at those services", () => {
    const all = services("bullmq");
    const pg = serviceEnvironment(all.postgres!);
    for (const name of ["migrate", "receiver", "worker"]) {
      const url = new URL(serviceEnvironment(all[name]!).DATABASE_URL!);
      expect(url.hostname, name).toBe("postgres");
      expect(url.pathname, name).toBe(`/${pg.POSTGRES_DB}`);
      expect(decodeURIComponent(url.username), name).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(url.password), name).toBe(pg.POSTGRES_PASSWORD);
    }
    for (const name of appNames)
      expect(new URL(serviceEnvironment(all[name]!).REDIS_URL!).hostname).toBe("redis");
  });

  it("migrates once, with the db package's CLI, after Postgres is healthy", () => {
    const migrate = raw.services.migrate as Service;
    expect(migrate.restart).toBe("no");
    expect(migrate.command).toEqual(["node", "packages/db/dist/cli/migrate.js"]);
    expect(repoPathExists("packages/db/src/cli/migrate.ts")).toBe(true);
    expect(serviceDependsOn(migrate)).toEqual({ postgres: { condition: "service_healthy", required: true } });
  });

  it.each(appNames)("starts %s after the migrations and healthy Redis and Postgres", (app) => {
    expect(serviceDependsOn(raw.services[app])).toMatchObject({
      migrate: { condition: "service_completed_successfully", required: true },
      postgres: { condition: "service_healthy", required: true },
      redis: { condition: "service_healthy", required: true },
      localstack: { condition: "service_healthy", required: false },
    });
  });
});

describe.each(modeNames)("apps' configuration (%s mode)", (mode) => {
  const planned = new Set<string>(AWS_APP_VARS);
  const sdk = new Set<string>(AWS_SDK_VARS);

  it.each(appNames)("sets only variables %s reads", (app) => {
    const svc = services(mode)[app]!;
    const known = new Set(schemaKeys(app));
    // Variables from `environment` must be in the app's schema; the AWS-mode env file may
    // also carry the AWS variables the app is about to read, and the SDK's credentials.
    const unknown = Object.keys(serviceEnvironment(svc)).filter((k) => !known.has(k));
    expect(unknown, "environment keys not in the schema").toEqual([]);
    const fromFiles = Object.keys(containerEnv(svc)).filter(
      (k) => !known.has(k) && !planned.has(k) && !sdk.has(k),
    );
    expect(fromFiles, "env_file keys the app does not read").toEqual([]);
  });

  it.each(appNames)("sets every variable %s requires", (app) => {
    const env = containerEnv(services(mode)[app]!);
    expect(requiredKeys(app).filter((k) => !env[k])).toEqual([]);
  });

  it.each(appNames)("gives %s no empty value (an empty URL fails the schema)", (app) => {
    const env = containerEnv(services(mode)[app]!);
    expect(Object.entries(env).filter(([, v]) => v === undefined || v === "")).toEqual([]);
  });

  it.each(appNames)("selects the %s queue driver", (app) => {
    expect(containerEnv(services(mode)[app]!).QUEUE_DRIVER).toBe(mode);
  });
});

describe("apps' configuration parses with their schemas", () => {
  it.each(appNames)("%s (bullmq mode)", (app) => {
    const result = APPS[app].schema.safeParse(containerEnv(services("bullmq")[app]!));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  // The AWS mode's values parse once the app accepts QUEUE_DRIVER=sqs (the SQS driver work);
  // until then these are reported as skipped, not failed.
  it.for(appNames)("%s (sqs mode)", (app, ctx) => {
    const schema = APPS[app].schema;
    if (!schema.shape.QUEUE_DRIVER!.safeParse("sqs").success) {
      ctx.skip(`${app}'s schema does not accept QUEUE_DRIVER=sqs yet`);
    }
    const result = schema.safeParse(containerEnv(services("sqs")[app]!));
    expect(result.error?.issues ?? []).toEqual([]);
    for (const key of AWS_APP_VARS) {
      if (key in schema.shape) expect((result.data as Record<string, unknown>)[key], key).toBeDefined();
    }
  });

  it("loads the AWS-mode env file only with QUEUE_DRIVER=sqs", () => {
    for (const app of appNames) {
      const [bullmqFile] = serviceEnvFiles(services("bullmq")[app]!);
      const [sqsFile] = serviceEnvFiles(services("sqs")[app]!);
      expect(bullmqFile).toEqual({ path: "./scripts/localstack/app-bullmq.env", required: false });
      expect(repoPathExists(bullmqFile!.path)).toBe(false);
      expect(sqsFile).toEqual({ path: "./scripts/localstack/app-sqs.env", required: false });
      expect(repoPathExists(sqsFile!.path)).toBe(true);
      const env = containerEnv(services("sqs")[app]!);
      for (const key of AWS_APP_VARS) expect(env[key], `${app} ${key}`).toBeTruthy();
    }
  });
});

describe("receiver", () => {
  it("publishes its PORT", () => {
    const svc = services("bullmq").receiver!;
    const port = Number(containerEnv(svc).PORT ?? schemaDefault("receiver", "PORT"));
    expect(servicePorts(svc).map((p) => p.target)).toEqual([port]);
    expect(servicePorts(svc)[0]!.published).toBe(String(port));
    expect(healthcheckCommand(svc)).toContain(`http://127.0.0.1:${port}/health`);
  });
});

describe("worker", () => {
  it("runs two replicas", () => {
    const svc = raw.services.worker as Service;
    expect(svc.deploy.replicas).toBe(2);
    expect(svc.container_name).toBeUndefined();
  });

  it("publishes no fixed host port (replicas would collide)", () => {
    for (const port of servicePorts(raw.services.worker)) {
      expect(
        port.published === undefined || port.published.includes("-"),
        `published ${port.published}`,
      ).toBe(true);
    }
  });

  it("checks health on its WORKER_METRICS_PORT", () => {
    const svc = services("bullmq").worker!;
    const port = Number(
      containerEnv(svc).WORKER_METRICS_PORT ?? schemaDefault("worker", "WORKER_METRICS_PORT"),
    );
    expect(port).toBe(schemaDefault("worker", "WORKER_METRICS_PORT"));
    expect(healthcheckCommand(svc)).toContain(`http://127.0.0.1:${port}/health`);
    expect(svc.expose).toEqual([String(port)]);
  });

  it("gives running jobs time to finish on stop (SIGTERM drains)", () => {
    expect(raw.services.worker.stop_grace_period).toMatch(/^\d+s$/);
    expect(Number.parseInt(raw.services.worker.stop_grace_period, 10)).toBeGreaterThanOrEqual(30);
  });
});

describe("localstack (aws profile)", () => {
  const localstack = () => services("sqs").localstack!;

  it("emulates SQS, S3 and Secrets Manager", () => {
    const list = String(serviceEnvironment(localstack()).SERVICES).split(",");
    expect(list.sort()).toEqual(["s3", "secretsmanager", "sqs"]);
  });

  it("mounts the init hook and the terraform tree", () => {
    expect(localstack().volumes).toEqual(
      expect.arrayContaining([
        "./scripts/localstack:/etc/localstack/init/ready.d:ro",
        "./terraform:/opt/zixly/terraform:ro",
      ]),
    );
    expect(repoPathExists("scripts/localstack/init-aws.sh")).toBe(true);
  });

  it("is healthy only once LocalStack answers /_localstack/health and the hook has finished", () => {
    const check = healthcheckCommand(localstack());
    expect(check).toContain("http://localhost:4566/_localstack/health");
    const readyFile = /ZIXLY_READY_FILE:-([^}]+)\}/.exec(readRepoFile("scripts/localstack/init-aws.sh"))?.[1];
    expect(readyFile).toBeDefined();
    expect(check).toContain(`test -f ${readyFile}`);
  });

  it("hands out queue URLs on the host name the apps use", () => {
    const env = serviceEnvironment(localstack());
    const appFile = parseEnvFile(readRepoFile("scripts/localstack/app-sqs.env"));
    expect(env.SQS_ENDPOINT_STRATEGY).toBe("path");
    expect(env.LOCALSTACK_HOST).toBe(new URL(appFile.AWS_ENDPOINT_URL!).host);
    expect(new URL(appFile.SQS_QUEUE_URL!).host).toBe(env.LOCALSTACK_HOST);
  });
});

describe("prometheus and grafana", () => {
  it("runs Prometheus from ./prometheus", () => {
    const prometheus = raw.services.prometheus as Service;
    expect(prometheus.image).toMatch(/^prom\/prometheus:/);
    expect(prometheus.volumes).toContain("./prometheus:/etc/prometheus:ro");
    expect(prometheus.command).toContain("--config.file=/etc/prometheus/prometheus.yml");
  });

  it("runs Grafana with the provisioning and dashboards folders, anonymous viewers and an admin password from .env", () => {
    const grafana = raw.services.grafana as Service;
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([
        "./grafana/provisioning:/etc/grafana/provisioning:ro",
        "./grafana/dashboards:/var/lib/grafana/dashboards:ro",
      ]),
    );
    const env = serviceEnvironment(grafana);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe("true");
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe("Viewer");
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBe("${GRAFANA_ADMIN_PASSWORD:?set it in .env}");
  });
});

describe("monitoring configuration mounted into the stack", () => {
  const hasPrometheus = repoPathExists("prometheus/prometheus.yml");
  const hasGrafana = repoPathExists("grafana/provisioning");

  it.skipIf(!hasPrometheus)("scrapes the app services on their ports", () => {
    const config = parseComposeYaml(readRepoFile("prometheus/prometheus.yml"));
    const ports: Record<string, number> = {
      receiver: Number(serviceEnvironment(raw.services.receiver).PORT),
      worker: Number(serviceEnvironment(raw.services.worker).WORKER_METRICS_PORT),
    };
    const scraped = new Map<string, number>();
    for (const job of config.scrape_configs as Array<Record<string, unknown>>) {
      for (const sd of (job.dns_sd_configs ?? []) as Array<{ names: string[]; port: number }>) {
        for (const name of sd.names) scraped.set(name, sd.port);
      }
    }
    for (const [service, port] of Object.entries(ports)) expect(scraped.get(service), service).toBe(port);
  });

  it.skipIf(!hasGrafana)(
    "points Grafana's providers at the mounted folders and the prometheus service",
    () => {
      const mounts = (raw.services.grafana.volumes as string[]).map((v) => v.split(":"));
      const dashboardsTarget = mounts.find(([source]) => source === "./grafana/dashboards")?.[1];
      const provisioning = readRepoFile("grafana/provisioning/dashboards/zixly.yml");
      expect(provisioning).toContain(`path: ${dashboardsTarget}`);
      const datasources = readRepoFile("grafana/provisioning/datasources/prometheus.yml");
      expect(datasources).toContain("url: http://prometheus:9090");
      expect(raw.services.prometheus.ports).toEqual(["127.0.0.1:9090:9090"]);
    },
  );
});

describe("the interpolation used by these tests", () => {
  it("follows the Compose Specification's forms", async () => {
    const { interpolate } = await import("./lib/compose.js");
    const env = { SET: "v", EMPTY: "" };
    expect(interpolate("$$SET ${SET} $SET", env)).toBe("$SET v v");
    expect(interpolate("${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", env)).toBe("d d  d");
    expect(interpolate("${SET:+r} ${EMPTY:+r} ${EMPTY+r}", env)).toBe("r  r");
    expect(interpolate("${UNSET:-${SET}}", env)).toBe("v");
    expect(() => interpolate("${EMPTY:?boom}", env)).toThrow(/EMPTY.*boom/);
    expect(interpolate("${EMPTY?boom}", env)).toBe("");
    expect(() => interpolate("${UNSET?boom}", env)).toThrow(/boom/);
  });

  it("resolves the repository root correctly", () => {
    expect(repoPathExists(COMPOSE_FILE)).toBe(true);
    expect(repoPath()).toBe(path.resolve(repoPath("deploy-tests"), ".."));
  });
});
