import { createServer, type Server } from "node:http";
import type { OAuthClient } from "@zixly/connectors/vault";
import type { Logger, SecretBox } from "@zixly/core";
import type { PrismaClient } from "@zixly/db";
import type { Consumer, Delivery, QueueDriver } from "@zixly/queue";
import { JOBS_QUEUE, type JobMessageBody, type WorkflowRegistry } from "@zixly/workflows";
import { createConnectorResolver, type VendorUrls } from "./connector-resolver.js";
import { createCredentialVault } from "./credential-vault.js";
import { createJobStateWriter } from "./job-state-writer.js";
import { createWorkerMetrics } from "./metrics.js";
import { createPgStepStore, type ResultOffload } from "./pg-step-store.js";
import { createJobProcessor } from "./process-job.js";

export interface WorkerDeps {
  prisma: PrismaClient;
  queue: QueueDriver;
  registry: WorkflowRegistry;
  secretBox: SecretBox;
  log: Logger;
  concurrency: number;
  retryMaxDelayMs: number;
  urls: VendorUrls;
  /** Large results/step outputs and execution records go here (AWS mode: S3). */
  results?: ResultOffload;
  /** Lease of a claimed job (default 30 s): a crashed worker's job is re-run after it lapses. */
  leaseMs?: number;
  /** This installation's OAuth apps by provider, for token refresh. */
  oauthClients?: Partial<Record<string, OAuthClient>>;
  /** Most RUNNING jobs per tenant across workers (0 = unlimited). */
  tenantConcurrency?: number;
  /** Base URL of the receiver, for `step.waitForCallback` URLs. */
  callbackBaseUrl?: string | undefined;
  /** Port for /metrics and /health; `undefined` = no HTTP server (embedded use). */
  metricsPort?: number | undefined;
}

export interface RunningWorker {
  /** The metrics server's port, when one was started. */
  metricsPort: number | undefined;
  /** Stops taking jobs and waits for the running ones to finish. */
  stop(): Promise<void>;
}

/** Starts consuming workflow jobs. */
export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  const metrics = createWorkerMetrics();
  metrics.setConcurrency(deps.concurrency);
  const leaseMs = deps.leaseMs ?? 30_000;
  const writer = createJobStateWriter(deps.prisma, { leaseMs, tenantConcurrency: deps.tenantConcurrency });
  const runJob = createJobProcessor({
    prisma: deps.prisma,
    writer,
    queue: deps.queue,
    leaseMs,
    callbackBaseUrl: deps.callbackBaseUrl,
    registry: deps.registry,
    storeFor: (job) =>
      createPgStepStore(deps.prisma, {
        offload: deps.results
          ? { results: deps.results, tenantId: job.tenantId, jobCreatedAt: job.createdAt }
          : undefined,
        hints: job.hints,
        writer,
      }),
    results: deps.results,
    connectors: createConnectorResolver({
      prisma: deps.prisma,
      vault: createCredentialVault({
        prisma: deps.prisma,
        secretBox: deps.secretBox,
        oauthClients: deps.oauthClients ?? {},
        onRefresh: metrics.recordTokenRefresh,
      }),
      urls: deps.urls,
      onCall: metrics.recordConnectorCall,
    }),
    log: deps.log,
    retryMaxDelayMs: deps.retryMaxDelayMs,
    onAttempt: metrics.recordAttempt,
  });
  const processJob = async (delivery: Delivery<JobMessageBody>) => {
    metrics.jobStarted();
    try {
      await runJob(delivery);
    } catch (err) {
      // Retry/fail signals were logged by the processor; anything else (a lost database
      // connection while recording the outcome) must not leave silently.
      const name = (err as { name?: string }).name;
      if (name !== "RetryAfterError" && name !== "NonRetriableError") {
        deps.log.error(
          { err, jobId: delivery.body.jobId },
          "job attempt ended with an unexpected error; the queue will redeliver it",
        );
      }
      throw err;
    } finally {
      metrics.jobEnded();
    }
  };
  const consumer: Consumer = deps.queue.consume<JobMessageBody>(JOBS_QUEUE, processJob, {
    concurrency: deps.concurrency,
  });

  let server: Server | undefined;
  if (deps.metricsPort !== undefined) {
    server = createServer((req, res) => {
      if (req.url === "/metrics") {
        metrics.registry
          .metrics()
          .then((body) => res.writeHead(200, { "Content-Type": metrics.registry.contentType }).end(body))
          .catch(() => res.writeHead(500).end());
      } else if (req.url === "/health") {
        res.writeHead(200, { "Content-Type": "application/json" }).end('{"status":"ok"}');
      } else {
        res
          .writeHead(404, { "Content-Type": "application/json" })
          .end('{"error":{"code":"not_found","message":"not found"}}');
      }
    });
    await new Promise<void>((resolve) => server!.listen(deps.metricsPort, resolve));
  }
  const address = server?.address();
  const metricsPort = typeof address === "object" && address ? address.port : undefined;
  deps.log.info({ concurrency: deps.concurrency, metricsPort }, "worker consuming jobs");

  return {
    metricsPort,
    async stop() {
      await consumer.stop();
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
