/**
 * What the SQS driver's tests run against: LocalStack when `LOCALSTACK_ENDPOINT` is set, the
 * wire-level stand-in otherwise (see `sqs-stand-in.ts`), plus a pending-id table of its own in
 * the test Postgres (`TEST_DATABASE_URL`), which all of a test's processes share.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SqsQueueUrls } from "../sqs-queue-urls.js";
import { startSqsStandIn } from "./sqs-stand-in.js";

export { createTestPendingIds, TEST_DATABASE_URL, type TestPendingIds } from "./sqs-pending-table.js";

/** An SQS endpoint for tests. */
export interface SqsBackend {
  kind: "localstack" | "stand-in";
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A client for the test's own set-up calls. */
  admin: SQSClient;
  close(): Promise<void>;
}

/** LocalStack at `LOCALSTACK_ENDPOINT` if set, else a fresh stand-in. */
export async function startSqsBackend(): Promise<SqsBackend> {
  const credentials = { accessKeyId: "test", secretAccessKey: "test" };
  const localstack = process.env.LOCALSTACK_ENDPOINT;
  const region = process.env.AWS_REGION ?? "us-east-1";
  if (localstack) {
    const admin = new SQSClient({ region, endpoint: localstack, credentials });
    return {
      kind: "localstack",
      endpoint: localstack,
      region,
      credentials,
      admin,
      close: async () => admin.destroy(),
    };
  }
  const standIn = await startSqsStandIn({ region });
  const admin = new SQSClient({ region, endpoint: standIn.endpoint, credentials });
  return {
    kind: "stand-in",
    endpoint: standIn.endpoint,
    region,
    credentials,
    admin,
    async close() {
      admin.destroy();
      await standIn.close();
    },
  };
}

/** Settings of the queues a test creates. */
export interface TestQueueSettings {
  /** The queue's default visibility timeout (the driver sets its own on every receive). */
  visibilityTimeoutSec?: number;
  /** The redrive policy's safety net. Default 10, as in `terraform/modules/queue`. */
  maxReceiveCount?: number;
}

/**
 * Creates a standard queue and its DLQ per contract queue name, on first use, like
 * `terraform/modules/queue` does (redrive policy to the DLQ); `deleteAll` removes them.
 */
export function testQueues(
  backend: SqsBackend,
  settings: TestQueueSettings = {},
): { resolve: (queue: string) => Promise<SqsQueueUrls>; deleteAll(): Promise<void> } {
  const created = new Map<string, Promise<SqsQueueUrls>>();
  const create = async (queue: string): Promise<SqsQueueUrls> => {
    const base = `zx-${queue}`.slice(0, 72);
    const dlq = await backend.admin.send(new CreateQueueCommand({ QueueName: `${base}-dlq` }));
    const { Attributes } = await backend.admin.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    const main = await backend.admin.send(
      new CreateQueueCommand({
        QueueName: base,
        Attributes: {
          VisibilityTimeout: String(settings.visibilityTimeoutSec ?? 30),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: Attributes?.QueueArn,
            maxReceiveCount: settings.maxReceiveCount ?? 10,
          }),
        },
      }),
    );
    return { url: main.QueueUrl!, dlqUrl: dlq.QueueUrl! };
  };
  return {
    resolve(queue) {
      let urls = created.get(queue);
      if (!urls) {
        urls = create(queue);
        created.set(queue, urls);
      }
      return urls;
    },
    async deleteAll() {
      const all = await Promise.allSettled(created.values());
      created.clear();
      for (const result of all) {
        if (result.status !== "fulfilled") continue;
        for (const url of [result.value.url, result.value.dlqUrl!]) {
          await backend.admin.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
        }
      }
    },
  };
}
