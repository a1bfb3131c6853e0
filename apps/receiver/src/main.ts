import { createLogger, createSecretBox, parseEncryptionKeys } from "@zixly/core";
import { createPrismaClient } from "@zixly/db";
import { createBullmqDriver } from "@zixly/queue/bullmq";
import { createWorkflowRegistry, loadWorkflowModules, workflows } from "@zixly/workflows";
import { Redis } from "ioredis";
import { createReceiverApp } from "./app.js";
import { loadReceiverEnv, oauthSettingsFromEnv } from "./env.js";
import { createRedisRateLimiter } from "./http/rate-limit.js";
import { startOutboxRelay } from "./ingest/outbox-relay.js";
import { oauthProviders } from "./oauth/providers.js";

/** Receiver process: HTTP API + outbox relay. SIGTERM/SIGINT stop it gracefully. */
async function main(): Promise<void> {
  let env: ReturnType<typeof loadReceiverEnv>;
  try {
    env = loadReceiverEnv();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger({ name: "receiver", level: env.LOG_LEVEL });
  const prisma = createPrismaClient(env.DATABASE_URL);
  const queue = createBullmqDriver({ connection: env.REDIS_URL, prefix: env.QUEUE_PREFIX });
  const registry = createWorkflowRegistry([
    ...workflows,
    ...(await loadWorkflowModules(env.WORKFLOW_MODULES)),
  ]);
  const secretBox = createSecretBox(parseEncryptionKeys(env.ZIXLY_ENCRYPTION_KEY));

  // Rate limits live in Redis so every replica shares them; no offline queue, so a Redis outage
  // fails open at once instead of stalling requests.
  const limiterRedis = new Redis(env.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
  limiterRedis.on("error", () => undefined);
  const perMinute = (points: number) => (points > 0 ? { points, windowSec: 60 } : undefined);
  const apiPolicy = perMinute(env.API_RATE_LIMIT_PER_MINUTE);
  const webhookPolicy = perMinute(env.WEBHOOK_RATE_LIMIT_PER_MINUTE);
  const rateLimits = {
    ...(apiPolicy ? { api: createRedisRateLimiter(limiterRedis, "api", apiPolicy) } : {}),
    ...(webhookPolicy ? { webhooks: createRedisRateLimiter(limiterRedis, "webhooks", webhookPolicy) } : {}),
  };

  const app = createReceiverApp({
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
  const server = app.listen(env.PORT, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : env.PORT;
    log.info({ port, queue: env.QUEUE_DRIVER }, `receiver listening on http://127.0.0.1:${port}`);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "receiver stopping");
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await relay.stop();
    await queue.close();
    limiterRedis.disconnect();
    await prisma.$disconnect();
    log.info("receiver stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

void main();
