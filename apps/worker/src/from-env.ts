import { createLogger, createSecretBox, type Logger, parseEncryptionKeys, type SecretBox } from "@zixly/core";
import { createPrismaClient, type PrismaClient, sqlOf } from "@zixly/db";
import type { QueueDriver } from "@zixly/queue";
import { createQueueDriver, queueConfigFromEnv } from "@zixly/queue/config";
import { resultStoreFromEnv } from "@zixly/storage";
import { createWorkflowRegistry, loadWorkflowModules, workflows } from "@zixly/workflows";
import { oauthClientsFromEnv, type WorkerEnv } from "./env.js";
import { type RunningWorker, startWorker } from "./worker.js";

export interface WorkerOverrides {
  log?: Logger;
  /** A queue driver to use instead of the one `QUEUE_DRIVER` names (embedded mode, tests). */
  queue?: QueueDriver;
  prisma?: PrismaClient;
  /** A secret box to use instead of one built from ZIXLY_ENCRYPTION_KEY (AWS mode: follows rotation). */
  secretBox?: SecretBox;
}

/** Starts a worker from its configuration; `stop()` drains and closes what it opened. */
export async function startWorkerFromEnv(
  env: WorkerEnv,
  overrides: WorkerOverrides = {},
): Promise<RunningWorker> {
  const log = overrides.log ?? createLogger({ name: "worker", level: env.LOG_LEVEL });
  const prisma =
    overrides.prisma ?? createPrismaClient(env.DATABASE_URL, { max: env.WORKER_CONCURRENCY + 2 });
  const queue =
    overrides.queue ??
    (await createQueueDriver(queueConfigFromEnv(env, sqlOf(prisma), { lockMs: env.QUEUE_LOCK_MS })));
  const resultStore = await resultStoreFromEnv(env);
  const worker = await startWorker({
    ...(resultStore
      ? { results: { store: resultStore, inlineLimitBytes: env.RESULT_INLINE_MAX_BYTES } }
      : {}),
    prisma,
    queue,
    registry: createWorkflowRegistry([...workflows, ...(await loadWorkflowModules(env.WORKFLOW_MODULES))]),
    secretBox: overrides.secretBox ?? createSecretBox(parseEncryptionKeys(env.ZIXLY_ENCRYPTION_KEY)),
    log,
    concurrency: env.WORKER_CONCURRENCY,
    retryMaxDelayMs: env.RETRY_MAX_DELAY_MS,
    metricsPort: env.WORKER_METRICS_PORT,
    leaseMs: env.WORKER_LEASE_MS,
    tenantConcurrency: env.TENANT_CONCURRENCY,
    oauthClients: oauthClientsFromEnv(env),
    callbackBaseUrl: env.PUBLIC_BASE_URL,
    urls: {
      xeroApiBaseUrl: env.XERO_API_BASE_URL,
      hubspotApiBaseUrl: env.HUBSPOT_API_BASE_URL,
      shopifyApiBaseUrl: env.SHOPIFY_API_BASE_URL,
      asanaApiBaseUrl: env.ASANA_API_BASE_URL,
    },
  });
  return {
    metricsPort: worker.metricsPort,
    async stop() {
      await worker.stop();
      if (!overrides.queue) await queue.close();
      if (!overrides.prisma) await prisma.$disconnect();
    },
  };
}
