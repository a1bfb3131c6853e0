import type { OAuthClient } from "@zixly/connectors/vault";
import { z } from "zod";

const required = (what: string) =>
  z.string({ error: `is required (${what})` }).min(1, `is required (${what})`);
const optionalUrl = z.url().optional();

/** The worker's configuration, read once at start-up. Every variable is in `.env.example`. */
export const WorkerEnv = z
  .object({
    /** Postgres holding jobs, step memos and connections. */
    DATABASE_URL: required("postgresql://user@host:5432/db").pipe(z.url({ protocol: /^postgres(ql)?$/ })),
    /** Queue backend: `bullmq` (Redis), `sqs` (AWS; LocalStack locally) or `postgres` (BullMQ's Postgres backend: one moving part). */
    QUEUE_DRIVER: z.enum(["bullmq", "sqs", "postgres"]).default("bullmq"),
    /** AWS mode: region, optional endpoint (LocalStack), and the job queue and its dead-letter queue. */
    AWS_REGION: z.string().min(1).optional(),
    AWS_ENDPOINT_URL: z.url().optional(),
    SQS_QUEUE_URL: z.url().optional(),
    SQS_DLQ_URL: z.url().optional(),
    /** AWS mode: a Secrets Manager secret (JSON of variable names) holding ZIXLY_ENCRYPTION_KEY and OAuth client secrets. */
    SECRETS_MANAGER_SECRET_ID: z.string().min(1).optional(),
    SECRETS_CACHE_TTL_MS: z.coerce.number().int().min(0).default(300_000),
    /** AWS mode: S3 bucket for large results and job execution records (unset = keep everything in Postgres). */
    S3_BUCKET: z.string().min(3).optional(),
    S3_RESULTS_PREFIX: z.string().default("results/"),
    /** Results and step outputs larger than this (JSON bytes) go to S3; Postgres keeps the key. */
    RESULT_INLINE_MAX_BYTES: z.coerce.number().int().positive().default(65_536),
    /** Lifetime of the signed download URLs the jobs API returns. */
    RESULT_URL_TTL_SEC: z.coerce.number().int().min(1).max(604_800).default(300),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).default("redis://127.0.0.1:6379"),
    QUEUE_PREFIX: z.string().min(1).default("zixly"),
    /** Queue lease (BullMQ lock) of a delivered message; a crashed worker's messages come back after about twice this. */
    QUEUE_LOCK_MS: z.coerce.number().int().min(1_000).default(30_000),
    /** Jobs one worker process runs at once. */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(10),
    /** Most jobs of one tenant running at once across all workers (0 = no limit): one tenant's burst cannot take every slot. */
    TENANT_CONCURRENCY: z.coerce.number().int().min(0).default(0),
    /** Port of this worker's /metrics and /health (0 = any free port). */
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
    /** Receiver base URL; `step.waitForCallback` hands out `<PUBLIC_BASE_URL>/callbacks/<token>`. */
    PUBLIC_BASE_URL: optionalUrl,
    /** How long a claimed job stays owned without a heartbeat; a crashed worker's job re-runs after it. */
    WORKER_LEASE_MS: z.coerce.number().int().min(3_000).default(30_000),
    /** Upper bound on any retry delay (a safety net over exponential backoff). */
    RETRY_MAX_DELAY_MS: z.coerce
      .number()
      .int()
      .positive()
      .default(15 * 60_000),
    /** Same keys as the receiver's: connection credentials are decrypted with them. */
    ZIXLY_ENCRYPTION_KEY: required("base64 of 32 random bytes, the receiver's key"),
    /** Vendor origins; unset = the real vendor. Paths stay as each vendor documents them. */
    XERO_API_BASE_URL: optionalUrl,
    XERO_IDENTITY_URL: optionalUrl,
    HUBSPOT_API_BASE_URL: optionalUrl,
    SHOPIFY_API_BASE_URL: optionalUrl,
    ASANA_API_BASE_URL: optionalUrl,
    /** Extra workflow modules (comma-separated paths or package names); receiver and worker need the same list. */
    WORKFLOW_MODULES: z.string().optional(),
    /** OAuth apps (client id + secret) used to refresh connection tokens; a provider without one cannot refresh. */
    XERO_CLIENT_ID: z.string().min(1).optional(),
    XERO_CLIENT_SECRET: z.string().min(1).optional(),
    HUBSPOT_CLIENT_ID: z.string().min(1).optional(),
    HUBSPOT_CLIENT_SECRET: z.string().min(1).optional(),
    ASANA_CLIENT_ID: z.string().min(1).optional(),
    ASANA_CLIENT_SECRET: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((env, ctx) => {
    if (env.QUEUE_DRIVER !== "sqs") return;
    for (const key of ["AWS_REGION", "SQS_QUEUE_URL"] as const) {
      if (!env[key])
        ctx.addIssue({ code: "custom", path: [key], message: "is required when QUEUE_DRIVER=sqs" });
    }
  });
export type WorkerEnv = z.infer<typeof WorkerEnv>;

/** Parses `source` (default `process.env`), or throws one error naming every bad variable. */
export function loadWorkerEnv(source: NodeJS.ProcessEnv = process.env): WorkerEnv {
  // An empty variable (`FOO=` in a sourced .env) means "not set", not "set to an empty string".
  const given = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = WorkerEnv.safeParse(given);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`Invalid worker configuration:\n${lines.join("\n")}`);
}

/** The OAuth apps configured in `env`, with each vendor's token endpoint (base URLs honoured). */
export function oauthClientsFromEnv(env: WorkerEnv): Partial<Record<string, OAuthClient>> {
  const clients: Partial<Record<string, OAuthClient>> = {};
  if (env.XERO_CLIENT_ID && env.XERO_CLIENT_SECRET) {
    clients.xero = {
      provider: "xero",
      tokenUrl: `${(env.XERO_IDENTITY_URL ?? "https://identity.xero.com").replace(/\/+$/, "")}/connect/token`,
      clientId: env.XERO_CLIENT_ID,
      clientSecret: env.XERO_CLIENT_SECRET,
      clientAuth: "basic",
    };
  }
  if (env.HUBSPOT_CLIENT_ID && env.HUBSPOT_CLIENT_SECRET) {
    clients.hubspot = {
      provider: "hubspot",
      tokenUrl: `${(env.HUBSPOT_API_BASE_URL ?? "https://api.hubapi.com").replace(/\/+$/, "")}/oauth/v1/token`,
      clientId: env.HUBSPOT_CLIENT_ID,
      clientSecret: env.HUBSPOT_CLIENT_SECRET,
      clientAuth: "body",
    };
  }
  if (env.ASANA_CLIENT_ID && env.ASANA_CLIENT_SECRET) {
    clients.asana = {
      provider: "asana",
      tokenUrl: `${(env.ASANA_API_BASE_URL ?? "https://app.asana.com").replace(/\/+$/, "")}/-/oauth_token`,
      clientId: env.ASANA_CLIENT_ID,
      clientSecret: env.ASANA_CLIENT_SECRET,
      clientAuth: "body",
    };
  }
  return clients;
}
