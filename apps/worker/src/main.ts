import { createLogger, createSecretBox, parseEncryptionKeys } from "@zixly/core";
import { createPrismaClient } from "@zixly/db";
import { createBullmqDriver } from "@zixly/queue/bullmq";
import { createWorkflowRegistry, loadWorkflowModules, workflows } from "@zixly/workflows";
import { loadWorkerEnv, oauthClientsFromEnv } from "./env.js";
import { startWorker } from "./worker.js";

/** Worker process. SIGTERM/SIGINT: stop taking jobs, let running ones finish, exit 0. */
async function main(): Promise<void> {
  let env: ReturnType<typeof loadWorkerEnv>;
  try {
    env = loadWorkerEnv();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger({ name: "worker", level: env.LOG_LEVEL });
  const prisma = createPrismaClient(env.DATABASE_URL, { max: env.WORKER_CONCURRENCY + 2 });
  const queue = createBullmqDriver({
    connection: env.REDIS_URL,
    prefix: env.QUEUE_PREFIX,
    lockDurationMs: env.QUEUE_LOCK_MS,
    stalledIntervalMs: env.QUEUE_LOCK_MS,
  });
  const worker = await startWorker({
    prisma,
    queue,
    registry: createWorkflowRegistry([...workflows, ...(await loadWorkflowModules(env.WORKFLOW_MODULES))]),
    secretBox: createSecretBox(parseEncryptionKeys(env.ZIXLY_ENCRYPTION_KEY)),
    log,
    concurrency: env.WORKER_CONCURRENCY,
    retryMaxDelayMs: env.RETRY_MAX_DELAY_MS,
    metricsPort: env.WORKER_METRICS_PORT,
    leaseMs: env.WORKER_LEASE_MS,
    tenantConcurrency: env.TENANT_CONCURRENCY,
    oauthClients: oauthClientsFromEnv(env),
    callbackBaseUrl: env.PUBLIC_BASE_URL,
    urls: { xeroApiBaseUrl: env.XERO_API_BASE_URL, hubspotApiBaseUrl: env.HUBSPOT_API_BASE_URL },
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "worker draining: no new jobs, waiting for running ones");
    await worker.stop();
    await queue.close();
    await prisma.$disconnect();
    log.info("worker stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

void main();
