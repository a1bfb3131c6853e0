// Test harness for end-to-end tests: a real receiver (HTTP on a random port) and worker
// over a fresh Postgres database and a private Redis key prefix, with the Xero and HubSpot
// sandboxes standing in for the vendors. Tests drive it through HTTP, as a user would.
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { OAuthClient } from "@zixly/connectors/vault";
import { createLogger, createSecretBox, parseEncryptionKeys } from "@zixly/core";
import { sqlOf } from "@zixly/db";
import { createTestDatabase } from "@zixly/db/testing";
import { createBullmqDriver } from "@zixly/queue/bullmq";
import { createQueueDriver } from "@zixly/queue/config";
import { createReceiverApp, createRedisRateLimiter, oauthProviders, startOutboxRelay } from "@zixly/receiver";
import {
  createHubspotSandbox,
  createXeroSandbox,
  HUBSPOT_SANDBOX_DEFAULTS,
  XERO_SANDBOX_DEFAULTS,
} from "@zixly/sandboxes";
import { createS3ResultStore } from "@zixly/storage/s3";
import { startWorker } from "@zixly/worker";
import { type AnyWorkflow, createWorkflowRegistry, workflows } from "@zixly/workflows";
import { Redis } from "ioredis";
import { startSqsBackend, testQueues } from "../packages/queue/src/test-support/sqs-fixtures.js";
import { startTestS3 } from "../packages/storage/src/test-support/s3-server.js";

export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const ADMIN_TOKEN = "test-admin-token-0123456789";

export interface PipelineOptions {
  /** Run a worker in this process (default true). */
  worker?: boolean;
  concurrency?: number;
  retryMaxDelayMs?: number;
  /** Requests per minute per tenant (api) / per endpoint (webhooks); unset = unlimited. */
  rateLimits?: { apiPerMinute?: number; webhooksPerMinute?: number };
  /** Port for the in-process worker's /metrics (0 = any free port); unset = none. */
  workerMetricsPort?: number;
  /** OAuth apps for token refresh, by provider. */
  oauthClients?: Partial<Record<string, OAuthClient>>;
  /** Where log lines go (default: nowhere); tests read them to check redaction. */
  logStream?: NodeJS.WritableStream;
  /** Offload results above this many JSON bytes to an S3-compatible store (s3rver, or LocalStack when LOCALSTACK_ENDPOINT is set). */
  resultsInlineLimitBytes?: number;
  /** Queue backend (default bullmq on the shared Redis); sqs runs against the stand-in (or LOCALSTACK_ENDPOINT). */
  queueDriver?: "bullmq" | "sqs" | "postgres";
  /** Workflows besides the catalogue (test fixtures). */
  workflows?: AnyWorkflow[];
}

export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

export async function startPipeline(options: PipelineOptions = {}) {
  const db = await createTestDatabase();
  const prefix = `zixly-e2e-${randomUUID()}`;
  const encryptionKey = `k1:${randomBytes(32).toString("base64")}`;
  const secretBox = createSecretBox(parseEncryptionKeys(encryptionKey));
  const log = createLogger({
    name: "e2e",
    level: options.logStream ? "debug" : (process.env.E2E_LOG_LEVEL ?? "silent"),
    ...(options.logStream ? { destination: options.logStream } : {}),
  });
  const sqs = options.queueDriver === "sqs" ? await startSqsBackend() : undefined;
  const queue =
    options.queueDriver === "sqs" && sqs
      ? await createQueueDriver({
          driver: "sqs",
          region: sqs.region,
          endpoint: sqs.endpoint,
          credentials: sqs.credentials,
          queues: { jobs: await testQueues(sqs, { visibilityTimeoutSec: 30 }).resolve(prefix.slice(-20)) },
          query: sqlOf(db.prisma),
          lockMs: 5_000,
        })
      : options.queueDriver === "postgres"
        ? await createQueueDriver({ driver: "postgres", connectionString: db.url, lockMs: 5_000 })
        : createBullmqDriver({ connection: REDIS_URL, prefix });
  const registry = createWorkflowRegistry([...workflows, ...(options.workflows ?? [])]);
  const xero = await createXeroSandbox();
  const hubspot = await createHubspotSandbox();

  const limiterRedis = options.rateLimits ? new Redis(REDIS_URL, { enableOfflineQueue: false }) : undefined;
  const limiter = (name: string, points: number | undefined) =>
    limiterRedis && points
      ? createRedisRateLimiter(limiterRedis, `${prefix}:${name}`, { points, windowSec: 60 })
      : undefined;
  const apiLimiter = limiter("api", options.rateLimits?.apiPerMinute);
  const webhookLimiter = limiter("webhooks", options.rateLimits?.webhooksPerMinute);
  const s3 = options.resultsInlineLimitBytes !== undefined ? await startTestS3() : undefined;
  const resultStore = s3
    ? createS3ResultStore({
        bucket: s3.bucket,
        region: s3.region,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: s3.credentials,
      })
    : undefined;
  const app = createReceiverApp({
    ...(resultStore ? { results: { store: resultStore, urlTtlSec: 60 } } : {}),
    oauth: {
      providers: oauthProviders({
        xero: {
          clientId: XERO_SANDBOX_DEFAULTS.clientId,
          clientSecret: XERO_SANDBOX_DEFAULTS.clientSecret,
          loginUrl: xero.url,
          identityUrl: xero.url,
        },
      }),
      apiUrls: { xero: xero.url },
    },
    rateLimits: {
      ...(apiLimiter ? { api: apiLimiter } : {}),
      ...(webhookLimiter ? { webhooks: webhookLimiter } : {}),
    },
    prisma: db.prisma,
    queue,
    registry,
    secretBox,
    log,
    config: { adminToken: ADMIN_TOKEN, maxBodyBytes: 1024 * 1024 },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const relay = startOutboxRelay({ prisma: db.prisma, queue, registry, log, intervalMs: 200, graceMs: 100 });

  const workerConfig = {
    urls: { xeroApiBaseUrl: xero.url, hubspotApiBaseUrl: hubspot.url },
    retryMaxDelayMs: options.retryMaxDelayMs ?? 200,
    ...(resultStore
      ? { results: { store: resultStore, inlineLimitBytes: options.resultsInlineLimitBytes } }
      : {}),
    oauthClients: options.oauthClients ?? {
      xero: {
        provider: "xero",
        tokenUrl: `${xero.url}/connect/token`,
        clientId: XERO_SANDBOX_DEFAULTS.clientId,
        clientSecret: XERO_SANDBOX_DEFAULTS.clientSecret,
        clientAuth: "basic" as const,
      },
    },
  };
  /** Another worker on the same database and queue (e.g. to race the first one). */
  const extraWorkers: Awaited<ReturnType<typeof startWorker>>[] = [];
  async function startExtraWorker(concurrency = 1) {
    const extra = await startWorker({
      prisma: db.prisma,
      queue,
      registry,
      secretBox,
      log,
      concurrency,
      callbackBaseUrl: baseUrl,
      ...workerConfig,
    });
    extraWorkers.push(extra);
    return extra;
  }
  const worker =
    options.worker === false
      ? undefined
      : await startWorker({
          prisma: db.prisma,
          queue,
          registry,
          secretBox,
          log,
          concurrency: options.concurrency ?? 4,
          callbackBaseUrl: baseUrl,
          metricsPort: options.workerMetricsPort,
          ...workerConfig,
        });

  async function call(
    method: string,
    path: string,
    init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body: string | Buffer | undefined;
    if (Buffer.isBuffer(init.body) || typeof init.body === "string") body = init.body;
    else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers["content-type"] = "application/json";
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: json as Record<string, unknown> & { error?: { code: string; message: string } },
    };
  }

  /** A tenant with an ADMIN key, a Xero endpoint, and Xero + HubSpot connections to the sandboxes. */
  async function setupTenant(name = "Acme Ltd", credentials?: { xero?: Record<string, string> }) {
    const tenant = await call("POST", "/api/tenants", { token: ADMIN_TOKEN, body: { name } });
    if (tenant.status !== 201) throw new Error(`tenant: ${tenant.status} ${tenant.text}`);
    const apiKey = tenant.json.apiKey as string;
    const webhookKey = randomBytes(48).toString("base64");
    const endpoint = await call("POST", "/api/endpoints", {
      token: apiKey,
      body: { source: "xero", name: "Xero", secret: webhookKey },
    });
    if (endpoint.status !== 201) throw new Error(`endpoint: ${endpoint.status} ${endpoint.text}`);
    const xeroTenantId = randomUUID();
    xero.state.tenants.push({ tenantId: xeroTenantId, tenantName: name });
    for (const [provider, externalAccountId, creds] of [
      ["xero", xeroTenantId, credentials?.xero ?? { accessToken: XERO_SANDBOX_DEFAULTS.accessToken }],
      ["hubspot", "portal-1", { accessToken: HUBSPOT_SANDBOX_DEFAULTS.accessToken }],
    ] as const) {
      const res = await call("POST", "/api/connections", {
        token: apiKey,
        body: { provider, name: provider, externalAccountId, credentials: creds },
      });
      if (res.status !== 201) throw new Error(`connection: ${res.status} ${res.text}`);
    }
    return {
      tenantId: tenant.json.id as string,
      apiKey,
      endpointId: endpoint.json.id as string,
      webhookPath: `/webhooks/${endpoint.json.id as string}`,
      webhookKey,
      xeroTenantId,
    };
  }

  /** A `standard` (Standard Webhooks) endpoint with a generated `whsec_` secret. */
  async function standardEndpoint(apiKey: string) {
    const res = await call("POST", "/api/endpoints", {
      token: apiKey,
      body: { source: "standard", name: "Generic" },
    });
    if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${res.text}`);
    const secret = res.json.secret as string;
    const path = `/webhooks/${res.json.id as string}`;
    /** Sends a signed event; returns the receiver's answer. */
    const send = (type: string, data: Record<string, unknown>, id = `msg_${randomUUID()}`) => {
      const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
      return call("POST", path, {
        body,
        headers: { "content-type": "application/json", ...signStandard(secret, id, body) },
      });
    };
    return { id: res.json.id as string, secret, path, send };
  }

  async function waitForJob(
    token: string,
    jobId: string,
    done: (job: Record<string, unknown>) => boolean,
    timeoutMs = 15_000,
  ) {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
      const res = await call("GET", `/api/jobs/${jobId}`, { token });
      last = res.json;
      if (res.status === 200 && done(res.json)) return res.json;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `job ${jobId} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`,
    );
  }

  return {
    baseUrl,
    db,
    queue,
    prefix,
    encryptionKey,
    xero,
    hubspot,
    call,
    setupTenant,
    standardEndpoint,
    waitForJob,
    registry,
    workerMetricsPort: worker?.metricsPort,
    secretBox,
    startExtraWorker,
    resultStore,
    async close() {
      await worker?.stop();
      for (const extra of extraWorkers) await extra.stop();
      await relay.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.close();
      await sqs?.close();
      await s3?.close();
      limiterRedis?.disconnect();
      await Promise.all([xero.close(), hubspot.close()]);
      await db.drop();
    },
  };
}

/** A Xero webhook body for one invoice event, and its `x-xero-signature` under `key`. */
export function xeroDelivery(
  key: string,
  events: Array<{
    resourceId: string;
    tenantId: string;
    eventDateUtc?: string;
    eventType?: string;
    eventCategory?: string;
  }>,
) {
  const body = JSON.stringify({
    events: events.map((e) => ({
      resourceUrl: `https://api.xero.com/api.xro/2.0/Invoices/${e.resourceId}`,
      resourceId: e.resourceId,
      eventDateUtc: e.eventDateUtc ?? "2026-11-21T09:15:39.902",
      eventType: e.eventType ?? "UPDATE",
      eventCategory: e.eventCategory ?? "INVOICE",
      tenantId: e.tenantId,
      tenantType: "ORGANISATION",
    })),
    firstEventSequence: 1,
    lastEventSequence: events.length,
    entropy: randomBytes(10).toString("hex"),
  });
  return { body, signature: signXero(key, body) };
}

export const signXero = (key: string, body: string | Buffer): string =>
  createHmac("sha256", key).update(body).digest("base64");

/** Standard Webhooks headers for `body` under a `whsec_` secret. */
export function signStandard(
  secret: string,
  id: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": `v1,${signature}` };
}
