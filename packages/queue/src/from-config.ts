import type { QueueDriver } from "./queue-driver.js";

/** Which backend carries job ids, and what it needs. Built from each app's environment. */
export type QueueConfig =
  | { driver: "bullmq"; redisUrl: string; prefix?: string; lockMs?: number; enqueueTimeoutMs?: number }
  | {
      driver: "sqs";
      region: string;
      endpoint?: string | undefined;
      /** Contract queue name → SQS queue (and dead-letter queue) URLs. */
      queues: Record<string, { url: string; dlqUrl?: string | undefined }>;
      /** SQL access to the shared Postgres, for the pending-id table that makes enqueue idempotent. */
      query: (text: string, values: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>;
      /** Explicit credentials (tests, LocalStack); default: the AWS SDK's credential chain. */
      credentials?: { accessKeyId: string; secretAccessKey: string };
      lockMs?: number;
      enqueueTimeoutMs?: number;
    }
  | {
      driver: "postgres";
      connectionString: string;
      schema?: string;
      lockMs?: number;
      enqueueTimeoutMs?: number;
    };

/**
 * Creates the configured driver. Drivers are imported on demand, so a BullMQ deployment never
 * loads the AWS SDK and an SQS one never opens a Redis connection.
 */
export async function createQueueDriver(config: QueueConfig): Promise<QueueDriver> {
  switch (config.driver) {
    case "bullmq": {
      const { createBullmqDriver } = await import("./bullmq.js");
      return createBullmqDriver({
        connection: config.redisUrl,
        ...(config.prefix ? { prefix: config.prefix } : {}),
        ...(config.lockMs ? { lockDurationMs: config.lockMs, stalledIntervalMs: config.lockMs } : {}),
        ...(config.enqueueTimeoutMs ? { enqueueTimeoutMs: config.enqueueTimeoutMs } : {}),
      });
    }
    case "sqs": {
      const { createSqsDriver, createPgPendingIdStore } = await import("./sqs.js");
      return createSqsDriver({
        region: config.region,
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        ...(config.credentials ? { credentials: config.credentials } : {}),
        queueUrls: config.queues,
        pendingIds: createPgPendingIdStore({ query: config.query }),
        ...(config.lockMs ? { visibilityTimeoutSec: Math.max(1, Math.ceil(config.lockMs / 1000)) } : {}),
        ...(config.enqueueTimeoutMs ? { enqueueTimeoutMs: config.enqueueTimeoutMs } : {}),
      });
    }
    case "postgres": {
      const { createPostgresDriver, migratePostgresQueue } = await import("./postgres.js");
      // BullMQ's Postgres backend refuses to run on an unmigrated schema; migrating is idempotent.
      await migratePostgresQueue({
        connectionString: config.connectionString,
        ...(config.schema ? { schema: config.schema } : {}),
      });
      return createPostgresDriver({
        connectionString: config.connectionString,
        ...(config.schema ? { schema: config.schema } : {}),
        ...(config.lockMs ? { lockDurationMs: config.lockMs, stalledIntervalMs: config.lockMs } : {}),
        ...(config.enqueueTimeoutMs ? { enqueueTimeoutMs: config.enqueueTimeoutMs } : {}),
      });
    }
  }
}

/** The queue variables both apps read (see `.env.example`). */
export interface QueueEnv {
  QUEUE_DRIVER: "bullmq" | "sqs" | "postgres";
  REDIS_URL: string;
  QUEUE_PREFIX: string;
  DATABASE_URL: string;
  AWS_REGION?: string | undefined;
  AWS_ENDPOINT_URL?: string | undefined;
  SQS_QUEUE_URL?: string | undefined;
  SQS_DLQ_URL?: string | undefined;
}

/** The name of the one queue workflow jobs travel on (mirrors `JOBS_QUEUE` of @zixly/workflows). */
const JOBS = "jobs";

/** The driver configuration an app's (already validated) environment names. */
export function queueConfigFromEnv(
  env: QueueEnv,
  query: Extract<QueueConfig, { driver: "sqs" }>["query"],
  extra: { lockMs?: number; enqueueTimeoutMs?: number } = {},
): QueueConfig {
  switch (env.QUEUE_DRIVER) {
    case "bullmq":
      return { driver: "bullmq", redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, ...extra };
    case "postgres":
      return { driver: "postgres", connectionString: env.DATABASE_URL, ...extra };
    case "sqs":
      if (!env.AWS_REGION || !env.SQS_QUEUE_URL)
        throw new Error("QUEUE_DRIVER=sqs needs AWS_REGION and SQS_QUEUE_URL");
      return {
        driver: "sqs",
        region: env.AWS_REGION,
        endpoint: env.AWS_ENDPOINT_URL,
        queues: { [JOBS]: { url: env.SQS_QUEUE_URL, dlqUrl: env.SQS_DLQ_URL } },
        query,
        ...extra,
      };
  }
}
