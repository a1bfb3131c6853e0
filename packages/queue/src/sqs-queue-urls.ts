/**
 * Which SQS queue (and dead-letter queue) serves each contract queue name. Resolved once per
 * name and cached; a failed resolution is retried on the next call.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** The SQS queues of one contract queue. */
export interface SqsQueueUrls {
  /** The queue's URL (`SQS_QUEUE_URL`). A standard queue: FIFO queues refuse per-message delays. */
  url: string;
  /**
   * The dead-letter queue's URL (`SQS_DLQ_URL`). When absent, the driver reads it from the
   * queue's redrive policy; a queue with neither cannot dead-letter (messages that should be
   * are reported through `onError` and come back after their lease).
   */
  dlqUrl?: string;
}

/** Map or function from contract queue names to their SQS queues. */
export type SqsQueueUrlSource =
  | Readonly<Record<string, SqsQueueUrls>>
  | ((queue: string) => SqsQueueUrls | Promise<SqsQueueUrls>);

/** A contract queue's SQS queues, resolved. */
export interface ResolvedQueue {
  url: string;
  dlqUrl: string | undefined;
}

/** The dead-letter queue named by `url`'s redrive policy, if it has one. */
async function dlqFromRedrivePolicy(client: SQSClient, url: string): Promise<string | undefined> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["RedrivePolicy"] }),
  );
  const policy = Attributes?.RedrivePolicy;
  if (!policy) return undefined;
  const arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
  const [, , , , account, name] = arn?.split(":") ?? [];
  if (!name) return undefined;
  const { QueueUrl } = await client.send(
    new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
  );
  return QueueUrl;
}

/** A cached resolver over `source`. */
export function createQueueResolver(
  client: SQSClient,
  source: SqsQueueUrlSource,
): (queue: string) => Promise<ResolvedQueue> {
  const cache = new Map<string, Promise<ResolvedQueue>>();
  const lookup = async (queue: string): Promise<ResolvedQueue> => {
    const urls =
      typeof source === "function"
        ? await source(queue)
        : Object.hasOwn(source, queue)
          ? source[queue]
          : undefined;
    if (!urls?.url) throw new TypeError(`no SQS queue is configured for queue ${JSON.stringify(queue)}`);
    return { url: urls.url, dlqUrl: urls.dlqUrl ?? (await dlqFromRedrivePolicy(client, urls.url)) };
  };
  return (queue) => {
    let resolved = cache.get(queue);
    if (!resolved) {
      resolved = lookup(queue);
      cache.set(queue, resolved);
      resolved.catch(() => cache.delete(queue));
    }
    return resolved;
  };
}
