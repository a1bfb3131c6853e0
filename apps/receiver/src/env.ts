import { z } from "zod";
import type { OAuthSettings } from "./oauth/providers.js";

/** A comma-free, non-empty string that must be present. */
const required = (what: string) =>
  z.string({ error: `is required (${what})` }).min(1, `is required (${what})`);

/**
 * The receiver's configuration, read once at start-up from the environment (12-factor).
 * Every variable is listed, with an example, in `.env.example`.
 */
export const ReceiverEnv = z
  .object({
    /** Postgres holding tenants, the event inbox and jobs. */
    DATABASE_URL: required("postgresql://user@host:5432/db").pipe(z.url({ protocol: /^postgres(ql)?$/ })),
    /** Which queue driver carries job ids to workers. */
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
    /** Redis for the BullMQ driver. Needs `maxmemory-policy noeviction` in production. */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).default("redis://127.0.0.1:6379"),
    /** Key prefix for every queue key in Redis (lets several installations share one Redis). */
    QUEUE_PREFIX: z.string().min(1).default("zixly"),
    /** Postgres connections of this receiver (webhook bursts hold one per in-flight delivery briefly). */
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
    /** HTTP port of the receiver. */
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    /** Base URL senders reach this receiver at; endpoint and callback URLs are built from it. */
    PUBLIC_BASE_URL: z.url().optional(),
    /** Bootstrap token that may create tenants (`POST /api/tenants`). Keep it long and secret. */
    ZIXLY_ADMIN_TOKEN: required("a long random string").min(16, "must be at least 16 characters"),
    /**
     * 32-byte AES keys, base64, as `keyId:key[,oldKeyId:oldKey…]`: the first encrypts signing
     * secrets and credentials, all of them decrypt (rotation).
     */
    ZIXLY_ENCRYPTION_KEY: required("base64 of 32 random bytes, e.g. `openssl rand -base64 32`"),
    /** Largest webhook body accepted, in bytes (larger → 413). */
    WEBHOOK_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /**
     * How long an idle keep-alive connection stays open. Longer than a load balancer's idle
     * timeout (AWS ALB: 60 s), so the balancer closes idle connections, never the receiver under
     * a request the balancer is sending (a 502 there; ECONNRESET for a sender without one).
     */
    HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(290_000).default(65_000),
    /** How often the outbox relay looks for accepted jobs the queue has not taken yet. */
    OUTBOX_RELAY_INTERVAL_MS: z.coerce.number().int().positive().default(2_000),
    /** Requests per minute per tenant on `/api` (0 = unlimited). */
    API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(100),
    /** Webhook deliveries per minute per endpoint (0 = unlimited); senders retry a 429. */
    WEBHOOK_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(60_000),
    /** OAuth apps for `GET /api/connections/:provider/authorize` (and the worker's token refresh). */
    XERO_CLIENT_ID: z.string().min(1).optional(),
    XERO_CLIENT_SECRET: z.string().min(1).optional(),
    HUBSPOT_CLIENT_ID: z.string().min(1).optional(),
    HUBSPOT_CLIENT_SECRET: z.string().min(1).optional(),
    ASANA_CLIENT_ID: z.string().min(1).optional(),
    ASANA_CLIENT_SECRET: z.string().min(1).optional(),
    SHOPIFY_CLIENT_ID: z.string().min(1).optional(),
    SHOPIFY_CLIENT_SECRET: z.string().min(1).optional(),
    /** Vendor origins; unset = the real vendor (paths stay as documented). */
    XERO_API_BASE_URL: z.url().optional(),
    XERO_IDENTITY_URL: z.url().optional(),
    /** Stands for https://login.xero.com (the consent screen). */
    XERO_LOGIN_URL: z.url().optional(),
    HUBSPOT_API_BASE_URL: z.url().optional(),
    /** Stands for https://app.hubspot.com (the consent screen). */
    HUBSPOT_APP_URL: z.url().optional(),
    ASANA_API_BASE_URL: z.url().optional(),
    SHOPIFY_API_BASE_URL: z.url().optional(),
    /** Pino log level. */
    /** Extra workflow modules (comma-separated paths or package names); receiver and worker need the same list. */
    WORKFLOW_MODULES: z.string().optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .superRefine((env, ctx) => {
    if (env.QUEUE_DRIVER !== "sqs") return;
    for (const key of ["AWS_REGION", "SQS_QUEUE_URL"] as const) {
      if (!env[key])
        ctx.addIssue({ code: "custom", path: [key], message: "is required when QUEUE_DRIVER=sqs" });
    }
  });
export type ReceiverEnv = z.infer<typeof ReceiverEnv>;

/** Parses `source` (default `process.env`), or throws one error naming every bad variable. */
export function loadReceiverEnv(source: NodeJS.ProcessEnv = process.env): ReceiverEnv {
  // An empty variable (`FOO=` in a sourced .env) means "not set", not "set to an empty string".
  const given = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = ReceiverEnv.safeParse(given);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`Invalid receiver configuration:\n${lines.join("\n")}`);
}

/** The connect flow's OAuth settings from `env` (a provider needs both its client id and secret). */
export function oauthSettingsFromEnv(env: ReceiverEnv): OAuthSettings {
  const pair = (id?: string, secret?: string) =>
    id && secret ? { clientId: id, clientSecret: secret } : undefined;
  const settings: OAuthSettings = {};
  const xero = pair(env.XERO_CLIENT_ID, env.XERO_CLIENT_SECRET);
  if (xero) settings.xero = { ...xero, loginUrl: env.XERO_LOGIN_URL, identityUrl: env.XERO_IDENTITY_URL };
  const hubspot = pair(env.HUBSPOT_CLIENT_ID, env.HUBSPOT_CLIENT_SECRET);
  if (hubspot)
    settings.hubspot = { ...hubspot, appUrl: env.HUBSPOT_APP_URL, apiUrl: env.HUBSPOT_API_BASE_URL };
  const asana = pair(env.ASANA_CLIENT_ID, env.ASANA_CLIENT_SECRET);
  if (asana) settings.asana = { ...asana, appUrl: env.ASANA_API_BASE_URL };
  const shopify = pair(env.SHOPIFY_CLIENT_ID, env.SHOPIFY_CLIENT_SECRET);
  if (shopify) settings.shopify = { ...shopify, apiUrl: env.SHOPIFY_API_BASE_URL };
  return settings;
}
