// A receiver (HTTP on a random port) + outbox relay + optional in-process worker, built the way
// e2e/harness.ts builds them, but over a database and a Redis the test chooses: a private
// redis-server it can stop, or a private Postgres cluster it can stop. The shared services on
// the default ports are never touched except through a fresh key prefix / database.
import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createLogger, createSecretBox, parseEncryptionKeys } from "@zixly/core";
import type { PrismaClient } from "@zixly/db";
import type { QueueDriver } from "@zixly/queue";
import { createBullmqDriver } from "@zixly/queue/bullmq";
import { createReceiverApp, type OutboxRelay, startOutboxRelay } from "@zixly/receiver";
import { type RunningWorker, startWorker } from "@zixly/worker";
import { type AnyWorkflow, createWorkflowRegistry, workflows } from "@zixly/workflows";
import { deleteKeysWithPrefix } from "../../packages/queue/src/test-support/redis-keys.js";
import { type Call, httpClient } from "./http.js";
import { standardHeaders } from "./signers.js";

export const STACK_ADMIN_TOKEN = "test-admin-token-support-0123456789";

export interface StackOptions {
  prisma: PrismaClient;
  /** Redis URL for the queue (a private server, or the shared one with the random prefix). */
  redisUrl: string;
  /** Run an in-process worker (default true). */
  worker?: boolean;
  concurrency?: number;
  workflows?: AnyWorkflow[];
  relayIntervalMs?: number;
  /** Bound on enqueue when Redis is down; `undefined` keeps the driver's default (5 s), as in production. */
  enqueueTimeoutMs?: number;
  /** Lease of running messages; short leases make stalled jobs come back quickly. */
  lockDurationMs?: number;
  /** Capture log lines (e.g. to check no secret is logged); default: silent unless E2E_LOG_LEVEL. */
  log?: { level: string; destination: { write(line: string): void } };
}

export interface Stack {
  baseUrl: string;
  call: Call;
  queue: QueueDriver;
  prefix: string;
  relay: OutboxRelay;
  worker: RunningWorker | undefined;
  /** Connection / worker errors the queue driver reported (they repeat while Redis is down). */
  queueErrors: Error[];
  /** A tenant and its bootstrap ADMIN key. */
  createTenant(name?: string): Promise<{ tenantId: string; apiKey: string }>;
  /** A `standard` endpoint with a generated secret, and a signer for it. */
  standardEndpoint(apiKey: string): Promise<StandardEndpoint>;
  close(): Promise<void>;
}

export interface StandardEndpoint {
  id: string;
  secret: string;
  path: string;
  /** Body + signed headers for one event; re-signing the same `webhookId` later gives a new timestamp. */
  delivery(body: string, webhookId: string): { body: string; headers: Record<string, string> };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const prefix = `zixly-e2e-${randomUUID()}`;
  const secretBox = createSecretBox(parseEncryptionKeys(`k1:${randomBytes(32).toString("base64")}`));
  const log = options.log
    ? createLogger({ name: "e2e-support", level: options.log.level, destination: options.log.destination })
    : createLogger({ name: "e2e-support", level: process.env.E2E_LOG_LEVEL ?? "silent" });
  const queueErrors: Error[] = [];
  const queue = createBullmqDriver({
    connection: options.redisUrl,
    prefix,
    ...(options.enqueueTimeoutMs !== undefined ? { enqueueTimeoutMs: options.enqueueTimeoutMs } : {}),
    lockDurationMs: options.lockDurationMs ?? 5_000,
    stalledIntervalMs: 2_000,
    onError: (error) => {
      if (queueErrors.length < 1_000) queueErrors.push(error);
    },
  });
  const registry = createWorkflowRegistry([...workflows, ...(options.workflows ?? [])]);
  const app = createReceiverApp({
    prisma: options.prisma,
    queue,
    registry,
    secretBox,
    log,
    config: { adminToken: STACK_ADMIN_TOKEN, maxBodyBytes: 1024 * 1024 },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = httpClient(baseUrl);
  const relay = startOutboxRelay({
    prisma: options.prisma,
    queue,
    registry,
    log,
    intervalMs: options.relayIntervalMs ?? 200,
    graceMs: 100,
  });
  const worker =
    options.worker === false
      ? undefined
      : await startWorker({
          prisma: options.prisma,
          queue,
          registry,
          secretBox,
          log,
          concurrency: options.concurrency ?? 8,
          callbackBaseUrl: baseUrl,
          urls: {},
          retryMaxDelayMs: 200,
        });

  return {
    baseUrl,
    call,
    queue,
    prefix,
    relay,
    worker,
    queueErrors,
    async createTenant(name = "Fault Tenant") {
      const res = await call("POST", "/api/tenants", { token: STACK_ADMIN_TOKEN, body: { name } });
      if (res.status !== 201) throw new Error(`tenant: ${res.status} ${res.text}`);
      return { tenantId: res.json.id as string, apiKey: res.json.apiKey as string };
    },
    async standardEndpoint(apiKey) {
      const res = await call("POST", "/api/endpoints", {
        token: apiKey,
        body: { source: "standard", name: "Generic" },
      });
      if (res.status !== 201) throw new Error(`endpoint: ${res.status} ${res.text}`);
      const secret = res.json.secret as string;
      return {
        id: res.json.id as string,
        secret,
        path: `/webhooks/${res.json.id as string}`,
        delivery: (body, webhookId) => ({
          body,
          headers: { "content-type": "application/json", ...standardHeaders(secret, webhookId, body) },
        }),
      };
    },
    async close() {
      // Bounded: with a service still down, draining could otherwise wait forever.
      await within(worker?.stop(), 10_000);
      await within(relay.stop(), 5_000);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await within(queue.close({ timeoutMs: 2_000 }), 5_000);
      // This stack's keys only (its random prefix); Redis may be shared.
      await within(deleteKeysWithPrefix(options.redisUrl, prefix), 5_000);
    },
  };
}

/** Waits for `promise` at most `ms`, swallowing its failure (teardown only). */
async function within(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!promise) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
