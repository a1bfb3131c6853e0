import { createLogger, createSecretBox, type Logger, parseEncryptionKeys, type SecretBox } from "@zixly/core";
import { createPrismaClient, type PrismaClient, sqlOf } from "@zixly/db";
import type { QueueDriver } from "@zixly/queue";
import { createQueueDriver, queueConfigFromEnv } from "@zixly/queue/config";
import { resultStoreFromEnv } from "@zixly/storage";
import { createWorkflowRegistry, loadWorkflowModules, workflows } from "@zixly/workflows";
import { Redis } from "ioredis";
import { createReceiverApp } from "./app.js";
import { oauthSettingsFromEnv, type ReceiverEnv } from "./env.js";
import { createRedisRateLimiter } from "./http/rate-limit.js";
import { createEnqueuedMarker } from "./ingest/enqueue-jobs.js";
import { startOutboxRelay } from "./ingest/outbox-relay.js";
import { oauthProviders } from "./oauth/providers.js";

export interface RunningReceiver {
  port: number;
  url: string;
  /** Stops accepting requests, stops the relay, closes connections. */
  stop(): Promise<void>;
}

export interface ReceiverOverrides {
  log?: Logger;
  /** A queue driver to use instead of the one `QUEUE_DRIVER` names (embedded mode, tests). */
  queue?: QueueDriver;
  prisma?: PrismaClient;
  /** A secret box to use instead of one built from ZIXLY_ENCRYPTION_KEY (AWS mode: follows rotation). */
  secretBox?: SecretBox;
}

/** Starts the receiver (HTTP API + outbox relay) from its configuration. */
export async function startReceiver(
  env: ReceiverEnv,
  overrides: ReceiverOverrides = {},
): Promise<RunningReceiver> {
  const log = overrides.log ?? createLogger({ name: "receiver", level: env.LOG_LEVEL });
  const prisma = overrides.prisma ?? createPrismaClient(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE });
  // Short enqueue timeout: a webhook answer must not wait on a dead queue (the outbox takes over).
  const queue =
    overrides.queue ??
    (await createQueueDriver(queueConfigFromEnv(env, sqlOf(prisma), { enqueueTimeoutMs: 2_000 })));
  const registry = createWorkflowRegistry([
    ...workflows,
    ...(await loadWorkflowModules(env.WORKFLOW_MODULES)),
  ]);
  const secretBox = overrides.secretBox ?? createSecretBox(parseEncryptionKeys(env.ZIXLY_ENCRYPTION_KEY));

  // Rate limits live in Redis so every replica shares them; no offline queue, so a Redis outage
  // fails open at once instead of stalling requests. Without Redis (embedded mode) there are none.
  const perMinute = (points: number) => (points > 0 ? { points, windowSec: 60 } : undefined);
  const apiPolicy = perMinute(env.API_RATE_LIMIT_PER_MINUTE);
  const webhookPolicy = perMinute(env.WEBHOOK_RATE_LIMIT_PER_MINUTE);
  const limiterRedis =
    env.QUEUE_DRIVER === "bullmq" && (apiPolicy || webhookPolicy)
      ? new Redis(env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
      : undefined;
  limiterRedis?.on("error", () => undefined);
  const rateLimits = limiterRedis
    ? {
        ...(apiPolicy ? { api: createRedisRateLimiter(limiterRedis, "api", apiPolicy) } : {}),
        ...(webhookPolicy
          ? { webhooks: createRedisRateLimiter(limiterRedis, "webhooks", webhookPolicy) }
          : {}),
      }
    : {};

  const resultStore = await resultStoreFromEnv(env);
  const enqueuedMarker = createEnqueuedMarker(prisma, log);
  const app = createReceiverApp({
    enqueuedMarker,
    ...(resultStore ? { results: { store: resultStore, urlTtlSec: env.RESULT_URL_TTL_SEC } } : {}),
    rateLimits,
    oauth: {
      providers: oauthProviders(oauthSettingsFromEnv(env)),
      apiUrls: {
        xero: env.XERO_API_BASE_URL,
        hubspot: env.HUBSPOT_API_BASE_URL,
        asana: env.ASANA_API_BASE_URL,
      },
    },
    prisma,
    queue,
    registry,
    secretBox,
    log,
    config: {
      adminToken: env.ZIXLY_ADMIN_TOKEN,
      publicBaseUrl: env.PUBLIC_BASE_URL,
      maxBodyBytes: env.WEBHOOK_MAX_BODY_BYTES,
    },
  });
  const relay = startOutboxRelay({ prisma, queue, registry, log, intervalMs: env.OUTBOX_RELAY_INTERVAL_MS });
  const server = app.listen(env.PORT);
  server.keepAliveTimeout = env.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  // Headers of a request on a kept-alive connection may take as long as the connection may idle.
  server.headersTimeout = env.HTTP_KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.PORT;
  const url = `http://127.0.0.1:${port}`;
  log.info({ port, queue: env.QUEUE_DRIVER }, `receiver listening on ${url}`);

  return {
    port,
    url,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await relay.stop();
      await enqueuedMarker.flush();
      if (!overrides.queue) await queue.close();
      limiterRedis?.disconnect();
      if (!overrides.prisma) await prisma.$disconnect();
    },
  };
}
