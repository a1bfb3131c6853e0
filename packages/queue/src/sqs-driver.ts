/**
 * The {@link QueueDriver} over Amazon SQS. See `docs/aws.md` for how each rule of the contract
 * maps onto SQS (visibility timeout as the lease, re-sends for retries and long delays, the
 * driver's own dead-lettering with the redrive policy as a safety net, pending ids for
 * idempotent enqueue).
 */
import { randomUUID } from "node:crypto";
import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { QueueUnavailableError } from "./errors.js";
import { assertBackoff, assertConsumeOptions, assertMessages } from "./message-validation.js";
import type {
  BackoffPolicy,
  ConsumeOptions,
  Consumer,
  DeadLetter,
  DeliveryHandler,
  QueueDepth,
  QueueDriver,
  QueueMessage,
  StopOptions,
} from "./queue-driver.js";
import { type SqsConsumerSettings, startSqsConsumer } from "./sqs-consumer.js";
import {
  assertSqsMessageId,
  deadLetterFieldsOf,
  decodeMessage,
  type Envelope,
  envelopeOf,
  messageSize,
  SQS_MAX_DELAY_SECONDS,
  SQS_MAX_MESSAGE_BYTES,
  SQS_MAX_VISIBILITY_SECONDS,
  sendEntryOf,
} from "./sqs-messages.js";
import type { PendingIdClaim, PendingIdStore } from "./sqs-pending-ids.js";
import { createQueueResolver, type ResolvedQueue, type SqsQueueUrlSource } from "./sqs-queue-urls.js";
import { withTimeout } from "./timeout.js";

/** Static AWS credentials (otherwise the SDK's default chain: env, profile, role). */
export interface SqsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Options of {@link createSqsDriver}. */
export interface SqsDriverOptions {
  /** AWS region (`AWS_REGION`). */
  region: string;
  /**
   * Endpoint override (LocalStack, the test stand-in). With it, every call goes there instead of
   * the queue URL's host.
   */
  endpoint?: string;
  credentials?: SqsCredentials;
  /** A ready client instead of one built from region/endpoint/credentials (not destroyed by `close`). */
  client?: SQSClient;
  /** The SQS queue (and dead-letter queue) of each contract queue name. */
  queueUrls: SqsQueueUrlSource;
  /**
   * Where pending message ids live, for idempotent enqueue across processes (see
   * {@link PendingIdStore}; `createPgPendingIdStore` in production). `null` turns deduplication
   * off: the same id enqueued twice is then delivered twice, which breaks the contract and is
   * safe only for consumers that deduplicate themselves (the worker's claim in Postgres does).
   */
  pendingIds: PendingIdStore | null;
  /**
   * The lease: how long a received message stays invisible to other consumers, extended every
   * third of it while the handler runs. A crashed consumer's messages come back after at most
   * this long. Whole seconds, 1–43 200. Default 60.
   */
  visibilityTimeoutSec?: number;
  /** Long polling: how long a receive waits for messages (0–20 s). Default 20. */
  waitTimeSeconds?: number;
  /** Attempts for messages that set none. Default 3. */
  defaultAttempts?: number;
  /** Backoff for messages that set none. Default exponential from 1 s. */
  defaultBackoff?: BackoffPolicy;
  /** Jitter fraction on backoff delays, capped at 0.1 (±10%). Default 0.1. */
  jitter?: number;
  /** Upper bound for `enqueue`, `depth` and `deadLetters` when SQS (or the pending-id store) is slow or down. Default 5 000. */
  enqueueTimeoutMs?: number;
  /**
   * How long an enqueued id counts as pending at most, on top of its delay (a message lost to
   * retention or to the redrive safety net releases its id only then). Default 4 days, SQS's
   * default retention.
   */
  pendingIdTtlMs?: number;
  /**
   * Longest delay one SQS send holds, in seconds (SQS: 900). Longer delays hop: the message is
   * re-sent on receive until it is due. Lower it only in tests.
   */
  maxDelaySeconds?: number;
  /** Receives backend errors that the driver handles itself (they repeat while SQS is down). Default `console.error`. */
  onError?: (error: Error) => void;
}

function integerIn(value: number, name: string, min: number, max: number): number {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`createSqsDriver: ${name} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** Split entries into SQS batches: at most 10 entries and at most the size limit each. */
function batches<E extends { entry: Parameters<typeof messageSize>[0] }>(items: E[]): E[][] {
  const out: E[][] = [];
  let current: E[] = [];
  let size = 0;
  for (const item of items) {
    const bytes = messageSize(item.entry);
    if (current.length === 10 || (current.length > 0 && size + bytes > SQS_MAX_MESSAGE_BYTES)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

const DEPTH_ATTRIBUTES: QueueAttributeName[] = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
];

/**
 * Create a {@link QueueDriver} backed by Amazon SQS standard queues. One SDK client (HTTP
 * keep-alive) serves every queue and consumer of the driver.
 *
 * @example
 * ```ts
 * const queue = createSqsDriver({
 *   region: env.AWS_REGION,
 *   queueUrls: { jobs: { url: env.SQS_QUEUE_URL, dlqUrl: env.SQS_DLQ_URL } },
 *   pendingIds: createPgPendingIdStore({ query: (text, values) => pool.query(text, values) }),
 *   visibilityTimeoutSec: 60,
 * });
 * await queue.enqueue("jobs", [{ id: "job-1", body: { jobId: "1" } }]);
 * const consumer = queue.consume("jobs", async (d) => run(d.body, d.signal), { concurrency: 10 });
 * process.on("SIGTERM", () => void queue.close({ timeoutMs: 25_000 }));
 * ```
 */
export function createSqsDriver(options: SqsDriverOptions): QueueDriver {
  const defaults = {
    attempts: integerIn(options.defaultAttempts ?? 3, "defaultAttempts", 1, Number.MAX_SAFE_INTEGER),
    backoff: options.defaultBackoff ?? { type: "exponential" as const, delayMs: 1_000 },
  };
  assertBackoff(defaults.backoff, "createSqsDriver: defaultBackoff");
  const visibilityTimeoutSec = integerIn(
    options.visibilityTimeoutSec ?? 60,
    "visibilityTimeoutSec",
    1,
    SQS_MAX_VISIBILITY_SECONDS,
  );
  const waitTimeSeconds = integerIn(options.waitTimeSeconds ?? 20, "waitTimeSeconds", 0, 20);
  const timeoutMs = integerIn(options.enqueueTimeoutMs ?? 5_000, "enqueueTimeoutMs", 1, 600_000);
  const maxDelaySeconds = integerIn(
    options.maxDelaySeconds ?? SQS_MAX_DELAY_SECONDS,
    "maxDelaySeconds",
    1,
    SQS_MAX_DELAY_SECONDS,
  );
  const pendingIdTtlMs = integerIn(
    options.pendingIdTtlMs ?? 4 * 24 * 3_600_000,
    "pendingIdTtlMs",
    1_000,
    Number.MAX_SAFE_INTEGER,
  );
  // A claim taken before sending lives this long unless the send is confirmed: a producer
  // that dies in between blocks the id only briefly.
  const sendingTtlMs = Math.max(60_000, 2 * timeoutMs);
  const jitter = options.jitter ?? 0.1;
  if (!(Number.isFinite(jitter) && jitter >= 0)) {
    throw new RangeError("createSqsDriver: jitter must be a finite number ≥ 0");
  }
  const onError = options.onError ?? ((error: Error) => console.error("[@zixly/queue sqs]", error));
  const pendingIds = options.pendingIds;

  const ownsClient = options.client === undefined;
  const client =
    options.client ??
    new SQSClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 3,
    });
  const resolve = createQueueResolver(client, options.queueUrls);

  const settings: SqsConsumerSettings = {
    client,
    resolve,
    pendingIds,
    visibilityTimeoutSec,
    waitTimeSeconds,
    jitter,
    defaults,
    maxDelaySeconds,
    onError,
  };

  const consumers = new Set<Consumer>();
  let closed = false;
  let closing: Promise<void> | undefined;

  const assertOpen = (operation: string): void => {
    if (closed) throw new Error(`queue driver is closed (${operation})`);
  };

  /** Run a backend call bounded by the timeout; every failure becomes a QueueUnavailableError. */
  const bounded = async <R>(
    what: string,
    queue: string,
    run: (signal: AbortSignal) => Promise<R>,
  ): Promise<R> => {
    const controller = new AbortController();
    try {
      return await withTimeout(run(controller.signal), timeoutMs, () => {
        controller.abort();
        return new QueueUnavailableError(`${what} on queue ${queue} timed out after ${timeoutMs} ms`);
      });
    } catch (error) {
      if (error instanceof QueueUnavailableError || error instanceof TypeError) throw error;
      throw new QueueUnavailableError(`${what} on queue ${queue} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };

  const attributesOf = async (url: string, names: QueueAttributeName[], signal: AbortSignal) => {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names }),
      {
        abortSignal: signal,
      },
    );
    return (name: QueueAttributeName) => Number(Attributes?.[name] ?? 0);
  };

  /** Claim the ids (scoped by the queue's URL), send what was claimed, confirm or give back the claims. */
  async function sendAll(
    target: ResolvedQueue,
    prepared: { envelope: Envelope; entry: ReturnType<typeof sendEntryOf>; delayMs: number }[],
    signal: AbortSignal,
  ): Promise<void> {
    const claimOf = (p: (typeof prepared)[number]): PendingIdClaim => ({
      id: p.envelope.id,
      token: p.envelope.claim ?? "",
    });
    let toSend = prepared;
    if (pendingIds) {
      const claimed = new Set(await pendingIds.claim(target.url, prepared.map(claimOf), sendingTtlMs));
      toSend = prepared.filter((p) => claimed.has(p.envelope.id));
    }
    const sent: typeof prepared = [];
    try {
      for (const batch of batches(toSend)) {
        const out = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: target.url,
            Entries: batch.map((p, i) => ({ Id: `m${i}`, ...p.entry })),
          }),
          { abortSignal: signal },
        );
        const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
        batch.forEach((p, i) => {
          if (!failed.has(`m${i}`)) sent.push(p);
        });
        if (failed.size > 0) {
          const [first] = failed.values();
          throw new Error(`SQS refused ${failed.size} message(s): ${first?.Code}: ${first?.Message}`);
        }
      }
    } catch (error) {
      // Messages not known to be sent give their ids back, so calling enqueue again is safe
      // (at worst a message whose reply was lost is sent twice; it is never lost).
      if (pendingIds) {
        const unsent = toSend.filter((p) => !sent.includes(p)).map(claimOf);
        await pendingIds.release(target.url, unsent).catch((e: unknown) => onError(e as Error));
      }
      throw error;
    } finally {
      if (pendingIds && sent.length > 0) {
        const longest = Math.max(...sent.map((p) => p.delayMs));
        await pendingIds
          .extend(target.url, sent.map(claimOf), pendingIdTtlMs + longest)
          .catch((e: unknown) => {
            // The send happened; an unconfirmed claim only expires sooner.
            onError(e as Error);
          });
      }
    }
  }

  return {
    async enqueue<T>(queue: string, messages: readonly QueueMessage<T>[]): Promise<void> {
      assertOpen("enqueue");
      assertMessages(messages);
      for (const message of messages) assertSqsMessageId(message.id);
      // The first message of an id wins, within the batch as across calls.
      const unique = new Map<string, QueueMessage<T>>();
      for (const message of messages) if (!unique.has(message.id)) unique.set(message.id, message);
      const now = Date.now();
      // Serialise and size-check everything before any I/O.
      const prepared = [...unique.values()].map((message) => {
        const envelope = envelopeOf(
          message,
          defaults,
          pendingIds ? randomUUID() : undefined,
          now,
          maxDelaySeconds,
        );
        const delayMs = message.delayMs ?? 0;
        return { envelope, entry: sendEntryOf(envelope, delayMs, maxDelaySeconds), delayMs };
      });
      if (prepared.length === 0) return;
      await bounded("enqueue", queue, async (signal) => sendAll(await resolve(queue), prepared, signal));
    },

    consume<T>(queue: string, handler: DeliveryHandler<T>, opts: ConsumeOptions): Consumer {
      assertOpen("consume");
      assertConsumeOptions(opts);
      const urls = options.queueUrls;
      if (typeof urls !== "function" && !Object.hasOwn(urls, queue)) {
        throw new TypeError(`no SQS queue is configured for queue ${JSON.stringify(queue)}`);
      }
      const inner = startSqsConsumer(queue, handler, opts.concurrency, settings);
      const consumer: Consumer = {
        stop: (stopOptions) => inner.stop(stopOptions).finally(() => consumers.delete(consumer)),
      };
      consumers.add(consumer);
      return consumer;
    },

    async depth(queue: string): Promise<QueueDepth> {
      assertOpen("depth");
      return bounded("depth", queue, async (signal) => {
        const target = await resolve(queue);
        const [main, dead] = await Promise.all([
          attributesOf(target.url, DEPTH_ATTRIBUTES, signal),
          target.dlqUrl
            ? attributesOf(target.dlqUrl, DEPTH_ATTRIBUTES.slice(0, 2), signal)
            : Promise.resolve(() => 0),
        ]);
        return {
          waiting: main("ApproximateNumberOfMessages"),
          active: main("ApproximateNumberOfMessagesNotVisible"),
          delayed: main("ApproximateNumberOfMessagesDelayed"),
          dead: dead("ApproximateNumberOfMessages") + dead("ApproximateNumberOfMessagesNotVisible"),
        };
      });
    },

    async deadLetters(queue: string, limit = 100): Promise<DeadLetter[]> {
      assertOpen("deadLetters");
      return bounded("deadLetters", queue, async (signal) => {
        const { dlqUrl } = await resolve(queue);
        if (!dlqUrl) return [];
        // A peek: receiving with a zero visibility timeout leaves the messages where they are.
        // SQS cannot list a queue, so this is a sample of at most a few batches of 10.
        const found = new Map<string, DeadLetter & { deadAt: number }>();
        for (let round = 0; round < 5 && found.size < limit; round += 1) {
          const out = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: dlqUrl,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 0,
              WaitTimeSeconds: 0,
              MessageAttributeNames: ["All"],
              MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
            }),
            { abortSignal: signal },
          );
          let fresh = 0;
          for (const message of out.Messages ?? []) {
            if (!message.MessageId || found.has(message.MessageId)) continue;
            fresh += 1;
            const fields = deadLetterFieldsOf(message);
            if (fields.queue !== undefined && fields.queue !== queue) continue;
            const { envelope } = decodeMessage(message, defaults);
            let body: unknown = envelope.body;
            try {
              body = JSON.parse(envelope.body);
            } catch {
              // Kept as the raw text.
            }
            found.set(message.MessageId, {
              id: envelope.id,
              body,
              error:
                fields.error ??
                "moved by the SQS redrive policy (maxReceiveCount receives without an outcome)",
              attempts: envelope.attempt,
              deadAt: fields.deadAt,
            });
          }
          if (fresh === 0) break;
        }
        return [...found.values()]
          .sort((a, b) => b.deadAt - a.deadAt)
          .slice(0, Math.max(1, limit))
          .map(({ deadAt: _, ...letter }) => letter);
      });
    },

    close(stopOptions?: StopOptions): Promise<void> {
      closed = true;
      // Every call reaches the consumers, so a later call can add a deadline to a drain in progress.
      const stopping = Promise.all([...consumers].map((consumer) => consumer.stop(stopOptions)));
      closing ??= (async () => {
        await stopping;
        if (ownsClient) client.destroy();
      })();
      return closing;
    },
  };
}
