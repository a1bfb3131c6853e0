/**
 * A wire-level **stand-in** for Amazon SQS, for tests on machines where LocalStack cannot run.
 * It is a test double, not an SQS emulator: an HTTP server that speaks the AWS JSON 1.0
 * protocol (`X-Amz-Target: AmazonSQS.<Operation>`, `application/x-amz-json-1.0`) the real
 * `@aws-sdk/client-sqs` uses, for the operations the Zixly driver and its tests call, with the
 * semantics AWS documents for them:
 *
 * - CreateQueue, GetQueueUrl, DeleteQueue, GetQueueAttributes (the approximate counts are exact here);
 * - SendMessage(Batch): per-message `DelaySeconds` (0–900), message attributes and their MD5s,
 *   size and character checks; FIFO queues: `MessageGroupId` required, per-message delays
 *   rejected, the 5-minute deduplication window (kept after the message is deleted);
 * - ReceiveMessage: long polling (`WaitTimeSeconds`, woken by sends and visibility changes),
 *   `MaxNumberOfMessages`, `VisibilityTimeout`, `ApproximateReceiveCount`; FIFO: no message of
 *   a group while an earlier one is in flight; the redrive policy (a message received
 *   `maxReceiveCount` times moves to the dead-letter queue on the next receive);
 * - DeleteMessage(Batch) (a stale receipt handle succeeds without deleting, as documented),
 *   ChangeMessageVisibility(Batch) (`MessageNotInflight`, the 12-hour limit);
 * - `MessageRetentionPeriod` (expired messages disappear).
 *
 * What it does not do: verify signatures (it only checks that a SigV4 `Authorization` header is
 * present), permissions, encryption, tags, purge, message move tasks, SetQueueAttributes,
 * ListQueues, high-throughput FIFO or fair queues, the query (XML) protocol, and the
 * sampling/eventual consistency of real SQS: it always returns the oldest available messages
 * first and its counts are exact. A long poll whose client disconnects takes nothing.
 *
 * @module
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A running stand-in. */
export interface SqsStandIn {
  /** `http://127.0.0.1:<port>`: pass it as the SQS client's `endpoint`. */
  endpoint: string;
  region: string;
  accountId: string;
  /** Number of requests served per operation (for tests that count calls). */
  calls: Map<string, number>;
  /** Stop listening and drop every queue. */
  close(): Promise<void>;
}

/** Options of {@link startSqsStandIn}. */
export interface SqsStandInOptions {
  /** Port to listen on (0 = any free port). */
  port?: number;
  region?: string;
}

interface AttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  attributes: Record<string, AttributeValue>;
  md5OfAttributes: string | undefined;
  sentAt: number;
  /** When the message is next available (after a delay or a visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt: number | undefined;
  /** Set by the latest receive; only this handle can change the message's visibility. */
  receiptHandle: string | undefined;
  receivedAt: number | undefined;
  groupId: string | undefined;
  dedupId: string | undefined;
  sequenceNumber: string | undefined;
}

interface QueueAttributes {
  VisibilityTimeout: number;
  DelaySeconds: number;
  ReceiveMessageWaitTimeSeconds: number;
  MessageRetentionPeriod: number;
  MaximumMessageSize: number;
  RedrivePolicy: { deadLetterTargetArn: string; maxReceiveCount: number } | undefined;
  FifoQueue: boolean;
  ContentBasedDeduplication: boolean;
}

interface StoredQueue {
  name: string;
  url: string;
  arn: string;
  attributes: QueueAttributes;
  /** Creation attributes as given, to compare on a repeated CreateQueue. */
  requested: string;
  messages: StoredMessage[];
  /** FIFO deduplication ids seen in the last 5 minutes → the message they created. */
  dedup: Map<string, { at: number; messageId: string; sequenceNumber: string }>;
  waiters: Set<() => void>;
  timer: NodeJS.Timeout | undefined;
  createdAt: number;
}

const DEDUP_WINDOW_MS = 5 * 60_000;
const MAX_VISIBILITY_SECONDS = 43_200;

class SqsError extends Error {
  constructor(
    readonly shape: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new SqsError("InvalidParameterValue", "InvalidParameterValue", message);
const missing = (name: string) =>
  new SqsError("MissingParameter", "MissingParameter", `The request must contain the parameter ${name}.`);
const noQueue = () =>
  new SqsError(
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "The specified queue does not exist.",
  );
const badHandle = (handle: string) =>
  new SqsError(
    "ReceiptHandleIsInvalid",
    "ReceiptHandleIsInvalid",
    `The input receipt handle "${handle}" is not valid.`,
  );

/** SQS accepts only these characters in bodies and string attributes (XML 1.0). */
const VALID_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

const md5 = (data: Buffer | string) => createHash("md5").update(data).digest("hex");

/**
 * MD5 of message attributes as SQS computes it: for each attribute, sorted by name, the
 * length-prefixed (4-byte big-endian) name, data type and value, with a transport byte (1 for
 * string values, 2 for binary ones) before the value.
 */
export function md5OfMessageAttributes(attributes: Record<string, AttributeValue>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const withLength = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of names) {
    const value = attributes[name]!;
    withLength(Buffer.from(name, "utf8"));
    withLength(Buffer.from(value.DataType, "utf8"));
    if (value.StringValue !== undefined) {
      parts.push(Buffer.from([1]));
      withLength(Buffer.from(value.StringValue, "utf8"));
    } else {
      parts.push(Buffer.from([2]));
      withLength(Buffer.from(value.BinaryValue ?? "", "base64"));
    }
  }
  return md5(Buffer.concat(parts));
}

function intIn(value: unknown, name: string, min: number, max: number): number {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw invalid(
      `Value ${String(value)} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`,
    );
  }
  return n;
}

function parseAttributes(input: unknown): Record<string, AttributeValue> {
  if (input === undefined || input === null) return {};
  if (typeof input !== "object") throw invalid("MessageAttributes must be a map.");
  const entries = Object.entries(input as Record<string, AttributeValue>);
  if (entries.length > 10)
    throw invalid(`Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`);
  for (const [name, value] of entries) {
    if (!/^(?!aws\.|amazon\.)(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]{1,256}(?<!\.)$/i.test(name)) {
      throw invalid(`Message attribute name '${name}' is invalid.`);
    }
    const type = value?.DataType ?? "";
    const base = type.split(".")[0];
    if (base === "String" || base === "Number") {
      if (typeof value.StringValue !== "string" || value.StringValue.length === 0) {
        throw invalid(
          `Message attribute '${name}' must contain a non-empty value of message attribute type '${type}'.`,
        );
      }
      if (!VALID_CHARS.test(value.StringValue))
        throw invalid(`Message attribute '${name}' contains invalid characters.`);
      if (base === "Number" && !Number.isFinite(Number(value.StringValue))) {
        throw invalid(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      }
    } else if (base === "Binary") {
      if (typeof value.BinaryValue !== "string")
        throw invalid(`Message attribute '${name}' must contain a binary value.`);
    } else {
      throw invalid(`The type of message (user) attribute '${name}' is invalid.`);
    }
  }
  return Object.fromEntries(entries);
}

function attributesSize(attributes: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size +=
      value.StringValue !== undefined
        ? Buffer.byteLength(value.StringValue)
        : Buffer.from(value.BinaryValue ?? "", "base64").length;
  }
  return size;
}

function parseQueueAttributes(input: Record<string, string> | undefined, fifoName: boolean): QueueAttributes {
  const a = input ?? {};
  const fifo = a.FifoQueue === "true";
  if (fifo !== fifoName)
    throw invalid(
      "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix.",
    );
  let redrive: QueueAttributes["RedrivePolicy"];
  if (a.RedrivePolicy) {
    const parsed = JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: unknown };
    if (typeof parsed.deadLetterTargetArn !== "string")
      throw invalid(
        "Value for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map.",
      );
    redrive = {
      deadLetterTargetArn: parsed.deadLetterTargetArn,
      maxReceiveCount: intIn(parsed.maxReceiveCount, "RedrivePolicy.maxReceiveCount", 1, 1000),
    };
  }
  return {
    VisibilityTimeout: intIn(a.VisibilityTimeout ?? "30", "VisibilityTimeout", 0, MAX_VISIBILITY_SECONDS),
    DelaySeconds: intIn(a.DelaySeconds ?? "0", "DelaySeconds", 0, 900),
    ReceiveMessageWaitTimeSeconds: intIn(
      a.ReceiveMessageWaitTimeSeconds ?? "0",
      "ReceiveMessageWaitTimeSeconds",
      0,
      20,
    ),
    MessageRetentionPeriod: intIn(
      a.MessageRetentionPeriod ?? "345600",
      "MessageRetentionPeriod",
      60,
      1_209_600,
    ),
    MaximumMessageSize: intIn(a.MaximumMessageSize ?? "262144", "MaximumMessageSize", 1024, 262_144),
    RedrivePolicy: redrive,
    FifoQueue: fifo,
    ContentBasedDeduplication: a.ContentBasedDeduplication === "true",
  };
}

/** Start a stand-in on 127.0.0.1. */
export async function startSqsStandIn(options: SqsStandInOptions = {}): Promise<SqsStandIn> {
  const region = options.region ?? "us-east-1";
  const accountId = "000000000000";
  const queues = new Map<string, StoredQueue>();
  const calls = new Map<string, number>();
  let sequence = 0;
  let origin = "";

  const queueByUrl = (url: unknown): StoredQueue => {
    if (typeof url !== "string") throw missing("QueueUrl");
    const name = url.split("/").pop() ?? "";
    const queue = queues.get(name);
    if (!queue) throw noQueue();
    return queue;
  };
  const queueByArn = (arn: string): StoredQueue | undefined => queues.get(arn.split(":").pop() ?? "");

  const now = () => Date.now();
  const inFlight = (m: StoredMessage, t: number) => m.receivedAt !== undefined && m.visibleAt > t;
  const delayed = (m: StoredMessage, t: number) => m.receivedAt === undefined && m.visibleAt > t;

  function expire(queue: StoredQueue, t: number): void {
    const retentionMs = queue.attributes.MessageRetentionPeriod * 1000;
    queue.messages = queue.messages.filter((m) => m.sentAt + retentionMs > t);
    for (const [id, entry] of queue.dedup) if (entry.at + DEDUP_WINDOW_MS <= t) queue.dedup.delete(id);
  }

  /** Wake the queue's long polls: something may have become available. */
  function wake(queue: StoredQueue): void {
    for (const waiter of [...queue.waiters]) waiter();
  }

  /** Wake long polls again when the next delayed or invisible message becomes available. */
  function schedule(queue: StoredQueue): void {
    if (queue.timer) clearTimeout(queue.timer);
    queue.timer = undefined;
    const t = now();
    let next = Number.POSITIVE_INFINITY;
    for (const m of queue.messages) if (m.visibleAt > t && m.visibleAt < next) next = m.visibleAt;
    if (Number.isFinite(next) && queue.waiters.size > 0) {
      queue.timer = setTimeout(() => wake(queue), next - t + 1);
      queue.timer.unref();
    }
  }

  function send(queue: StoredQueue, entry: Record<string, unknown>) {
    const body = entry.MessageBody;
    if (typeof body !== "string") throw missing("MessageBody");
    if (body.length === 0) throw invalid("The request must contain the parameter MessageBody.");
    if (!VALID_CHARS.test(body)) {
      throw new SqsError("InvalidMessageContents", "InvalidMessageContents", "Invalid characters found.");
    }
    const attributes = parseAttributes(entry.MessageAttributes);
    const size = Buffer.byteLength(body) + attributesSize(attributes);
    if (size > queue.attributes.MaximumMessageSize) {
      throw invalid(
        `One or more parameters are invalid. Reason: Message must be shorter than ${queue.attributes.MaximumMessageSize} bytes.`,
      );
    }
    const t = now();
    let delaySeconds = queue.attributes.DelaySeconds;
    let groupId: string | undefined;
    let dedupId: string | undefined;
    if (queue.attributes.FifoQueue) {
      if (entry.DelaySeconds !== undefined) {
        throw invalid(
          `Value ${String(entry.DelaySeconds)} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`,
        );
      }
      if (typeof entry.MessageGroupId !== "string") throw missing("MessageGroupId");
      groupId = entry.MessageGroupId;
      dedupId =
        typeof entry.MessageDeduplicationId === "string"
          ? entry.MessageDeduplicationId
          : queue.attributes.ContentBasedDeduplication
            ? createHash("sha256").update(body).digest("hex")
            : undefined;
      if (dedupId === undefined) {
        throw invalid(
          "The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly",
        );
      }
      expire(queue, t);
      const seen = queue.dedup.get(dedupId);
      if (seen) {
        // Accepted, not delivered again (AWS: "accepted successfully but aren't delivered").
        return {
          MessageId: seen.messageId,
          MD5OfMessageBody: md5(body),
          MD5OfMessageAttributes: md5OfMessageAttributes(attributes),
          SequenceNumber: seen.sequenceNumber,
        };
      }
    } else if (entry.DelaySeconds !== undefined) {
      delaySeconds = intIn(entry.DelaySeconds, "DelaySeconds", 0, 900);
    }
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      attributes,
      md5OfAttributes: md5OfMessageAttributes(attributes),
      sentAt: t,
      visibleAt: t + delaySeconds * 1000,
      receiveCount: 0,
      firstReceiveAt: undefined,
      receiptHandle: undefined,
      receivedAt: undefined,
      groupId,
      dedupId,
      sequenceNumber: queue.attributes.FifoQueue ? String(++sequence).padStart(20, "0") : undefined,
    };
    queue.messages.push(message);
    if (dedupId !== undefined) {
      queue.dedup.set(dedupId, {
        at: t,
        messageId: message.messageId,
        sequenceNumber: message.sequenceNumber!,
      });
    }
    wake(queue);
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      MD5OfMessageAttributes: message.md5OfAttributes,
      SequenceNumber: message.sequenceNumber,
    };
  }

  /** Take up to `max` available messages, applying the redrive policy and FIFO group locks. */
  function take(queue: StoredQueue, max: number, visibilitySeconds: number): StoredMessage[] {
    const t = now();
    expire(queue, t);
    const redrive = queue.attributes.RedrivePolicy;
    const lockedGroups = new Set<string>();
    if (queue.attributes.FifoQueue) {
      for (const m of queue.messages) if (inFlight(m, t) && m.groupId) lockedGroups.add(m.groupId);
    }
    const taken: StoredMessage[] = [];
    for (const m of [...queue.messages]) {
      if (taken.length >= max) break;
      if (m.visibleAt > t) {
        // A later message of this group must wait for the earlier one (FIFO order).
        if (m.groupId) lockedGroups.add(m.groupId);
        continue;
      }
      if (m.groupId && lockedGroups.has(m.groupId)) continue;
      if (redrive && m.receiveCount >= redrive.maxReceiveCount) {
        const dlq = queueByArn(redrive.deadLetterTargetArn);
        if (dlq) {
          queue.messages.splice(queue.messages.indexOf(m), 1);
          dlq.messages.push({
            ...m,
            visibleAt: t,
            receiveCount: 0,
            receiptHandle: undefined,
            receivedAt: undefined,
            firstReceiveAt: undefined,
          });
          wake(dlq);
          continue;
        }
      }
      m.receiveCount += 1;
      m.firstReceiveAt ??= t;
      m.receivedAt = t;
      m.visibleAt = t + visibilitySeconds * 1000;
      m.receiptHandle = Buffer.from(`${queue.name}\n${m.messageId}\n${randomUUID()}`).toString("base64url");
      taken.push(m);
    }
    return taken;
  }

  function findByHandle(
    queue: StoredQueue,
    handle: unknown,
  ): { message: StoredMessage | undefined; current: boolean } {
    if (typeof handle !== "string") throw missing("ReceiptHandle");
    const [queueName, messageId] = Buffer.from(handle, "base64url").toString().split("\n");
    if (queueName !== queue.name || !messageId) throw badHandle(handle);
    const message = queue.messages.find((m) => m.messageId === messageId);
    return { message, current: message?.receiptHandle === handle };
  }

  function changeVisibility(queue: StoredQueue, handle: unknown, timeout: unknown): void {
    const seconds = intIn(timeout, "VisibilityTimeout", 0, MAX_VISIBILITY_SECONDS);
    const { message, current } = findByHandle(queue, handle);
    if (!message || !current) throw badHandle(String(handle));
    const t = now();
    if (!inFlight(message, t)) {
      throw new SqsError(
        "MessageNotInflight",
        "AWS.SimpleQueueService.MessageNotInflight",
        "The message referred to isn't in flight.",
      );
    }
    if (t + seconds * 1000 - (message.receivedAt ?? t) > MAX_VISIBILITY_SECONDS * 1000) {
      throw invalid(
        `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds].`,
      );
    }
    message.visibleAt = t + seconds * 1000;
    wake(queue);
  }

  function deleteMessage(queue: StoredQueue, handle: unknown): void {
    const { message, current } = findByHandle(queue, handle);
    // A stale handle "succeeds, but the message will not be deleted" (SQS DeleteMessage docs).
    if (message && current) queue.messages.splice(queue.messages.indexOf(message), 1);
  }

  /** Run `each` per batch entry, collecting per-entry failures as SQS does. */
  function batch<R>(input: Record<string, unknown>, each: (entry: Record<string, unknown>) => R) {
    const entries = input.Entries;
    if (!Array.isArray(entries) || entries.length === 0) {
      throw new SqsError(
        "EmptyBatchRequest",
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one entry in the request.",
      );
    }
    if (entries.length > 10) {
      throw new SqsError(
        "TooManyEntriesInBatchRequest",
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
      );
    }
    const ids = new Set<string>();
    for (const entry of entries as Record<string, unknown>[]) {
      const id = entry.Id;
      if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
        throw new SqsError(
          "InvalidBatchEntryId",
          "AWS.SimpleQueueService.InvalidBatchEntryId",
          "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
        );
      }
      if (ids.has(id)) {
        throw new SqsError(
          "BatchEntryIdsNotDistinct",
          "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
          `Id ${id} repeated.`,
        );
      }
      ids.add(id);
    }
    const Successful: (R & { Id: string })[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const entry of entries as Record<string, unknown>[]) {
      try {
        Successful.push({ ...each(entry), Id: entry.Id as string });
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        Failed.push({
          Id: entry.Id as string,
          SenderFault: true,
          Code: error.queryCode,
          Message: error.message,
        });
      }
    }
    return { Successful, Failed };
  }

  const countsOf = (queue: StoredQueue) => {
    const t = now();
    expire(queue, t);
    let visible = 0;
    let notVisible = 0;
    let delayedCount = 0;
    for (const m of queue.messages) {
      if (inFlight(m, t)) notVisible += 1;
      else if (delayed(m, t)) delayedCount += 1;
      else visible += 1;
    }
    return { visible, notVisible, delayed: delayedCount };
  };

  async function receive(input: Record<string, unknown>, res: ServerResponse) {
    const queue = queueByUrl(input.QueueUrl);
    const max = intIn(input.MaxNumberOfMessages ?? 1, "MaxNumberOfMessages", 1, 10);
    const wait = intIn(
      input.WaitTimeSeconds ?? queue.attributes.ReceiveMessageWaitTimeSeconds,
      "WaitTimeSeconds",
      0,
      20,
    );
    const visibility = intIn(
      input.VisibilityTimeout ?? queue.attributes.VisibilityTimeout,
      "VisibilityTimeout",
      0,
      MAX_VISIBILITY_SECONDS,
    );
    const attributeNames = new Set<string>([
      ...((input.AttributeNames as string[] | undefined) ?? []),
      ...((input.MessageSystemAttributeNames as string[] | undefined) ?? []),
    ]);
    const messageAttributeNames = (input.MessageAttributeNames as string[] | undefined) ?? [];
    const deadline = now() + wait * 1000;

    let taken = take(queue, max, visibility);
    while (taken.length === 0 && now() < deadline && !res.destroyed) {
      await new Promise<void>((resolve) => {
        const done = () => {
          queue.waiters.delete(done);
          clearTimeout(timer);
          res.off("close", done);
          resolve();
        };
        const timer = setTimeout(done, deadline - now());
        queue.waiters.add(done);
        res.once("close", done);
        schedule(queue);
      });
      if (res.destroyed || !queues.has(queue.name)) return undefined;
      taken = take(queue, max, visibility);
    }
    if (res.destroyed) {
      // The client went away: put back what this request took, as if it never happened.
      for (const m of taken) {
        m.receiveCount -= 1;
        m.visibleAt = now();
        m.receiptHandle = undefined;
        if (m.receiveCount === 0) m.receivedAt = undefined;
      }
      return undefined;
    }
    const all = attributeNames.has("All");
    const allMessageAttributes =
      messageAttributeNames.includes("All") || messageAttributeNames.includes(".*");
    // Like SQS, an empty receive has no Messages member at all.
    if (taken.length === 0) return {};
    return {
      Messages: taken.map((m) => {
        const system: Record<string, string> = {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: String(m.sentAt),
          ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
          SenderId: "AIDASTANDIN",
          ...(m.groupId ? { MessageGroupId: m.groupId } : {}),
          ...(m.dedupId ? { MessageDeduplicationId: m.dedupId } : {}),
          ...(m.sequenceNumber ? { SequenceNumber: m.sequenceNumber } : {}),
        };
        const attributes = Object.fromEntries(
          Object.entries(system).filter(([name]) => all || attributeNames.has(name)),
        );
        const messageAttributes = Object.fromEntries(
          Object.entries(m.attributes).filter(
            ([name]) => allMessageAttributes || messageAttributeNames.includes(name),
          ),
        );
        const hasMessageAttributes = Object.keys(messageAttributes).length > 0;
        return {
          MessageId: m.messageId,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5OfBody,
          Body: m.body,
          ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
          ...(hasMessageAttributes
            ? {
                MessageAttributes: messageAttributes,
                MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
              }
            : {}),
        };
      }),
    };
  }

  const operations: Record<string, (input: Record<string, unknown>, res: ServerResponse) => unknown> = {
    CreateQueue(input) {
      const name = input.QueueName;
      if (typeof name !== "string") throw missing("QueueName");
      const fifoName = name.endsWith(".fifo");
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(fifoName ? name.slice(0, -5) : name)) {
        throw invalid("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
      }
      const requested = JSON.stringify(
        Object.entries((input.Attributes as Record<string, string>) ?? {}).sort(),
      );
      const existing = queues.get(name);
      if (existing) {
        if (existing.requested !== requested) {
          throw new SqsError(
            "QueueNameExists",
            "QueueAlreadyExists",
            "A queue already exists with the same name and a different value for attribute(s)",
          );
        }
        return { QueueUrl: existing.url };
      }
      const attributes = parseQueueAttributes(
        input.Attributes as Record<string, string> | undefined,
        fifoName,
      );
      if (attributes.RedrivePolicy && !queueByArn(attributes.RedrivePolicy.deadLetterTargetArn)) {
        throw invalid(
          "Value for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.",
        );
      }
      const queue: StoredQueue = {
        name,
        url: `${origin}/${accountId}/${name}`,
        arn: `arn:aws:sqs:${region}:${accountId}:${name}`,
        attributes,
        requested,
        messages: [],
        dedup: new Map(),
        waiters: new Set(),
        timer: undefined,
        createdAt: now(),
      };
      queues.set(name, queue);
      return { QueueUrl: queue.url };
    },
    GetQueueUrl(input) {
      const queue = queues.get(String(input.QueueName));
      if (!queue) throw noQueue();
      return { QueueUrl: queue.url };
    },
    DeleteQueue(input) {
      const queue = queueByUrl(input.QueueUrl);
      queues.delete(queue.name);
      if (queue.timer) clearTimeout(queue.timer);
      for (const waiter of [...queue.waiters]) waiter();
      return {};
    },
    GetQueueAttributes(input) {
      const queue = queueByUrl(input.QueueUrl);
      const names = new Set((input.AttributeNames as string[] | undefined) ?? []);
      const counts = countsOf(queue);
      const a = queue.attributes;
      const values: Record<string, string | undefined> = {
        ApproximateNumberOfMessages: String(counts.visible),
        ApproximateNumberOfMessagesNotVisible: String(counts.notVisible),
        ApproximateNumberOfMessagesDelayed: String(counts.delayed),
        QueueArn: queue.arn,
        VisibilityTimeout: String(a.VisibilityTimeout),
        DelaySeconds: String(a.DelaySeconds),
        ReceiveMessageWaitTimeSeconds: String(a.ReceiveMessageWaitTimeSeconds),
        MessageRetentionPeriod: String(a.MessageRetentionPeriod),
        MaximumMessageSize: String(a.MaximumMessageSize),
        RedrivePolicy: a.RedrivePolicy ? JSON.stringify(a.RedrivePolicy) : undefined,
        FifoQueue: a.FifoQueue ? "true" : undefined,
        ContentBasedDeduplication: a.FifoQueue ? String(a.ContentBasedDeduplication) : undefined,
        CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
        LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      };
      const Attributes = Object.fromEntries(
        Object.entries(values).filter(
          ([name, value]) => value !== undefined && (names.has("All") || names.has(name)),
        ),
      );
      return { Attributes };
    },
    SendMessage(input) {
      return send(queueByUrl(input.QueueUrl), input);
    },
    SendMessageBatch(input) {
      const queue = queueByUrl(input.QueueUrl);
      const entries = (input.Entries as Record<string, unknown>[] | undefined) ?? [];
      const total = entries.reduce(
        (sum, e) =>
          sum +
          Buffer.byteLength(typeof e.MessageBody === "string" ? e.MessageBody : "") +
          attributesSize((e.MessageAttributes as Record<string, AttributeValue>) ?? {}),
        0,
      );
      if (total > queue.attributes.MaximumMessageSize) {
        throw new SqsError(
          "BatchRequestTooLong",
          "AWS.SimpleQueueService.BatchRequestTooLong",
          `Batch requests cannot be longer than ${queue.attributes.MaximumMessageSize} bytes.`,
        );
      }
      return batch(input, (entry) => send(queue, entry));
    },
    ReceiveMessage: receive,
    DeleteMessage(input) {
      deleteMessage(queueByUrl(input.QueueUrl), input.ReceiptHandle);
      return {};
    },
    DeleteMessageBatch(input) {
      const queue = queueByUrl(input.QueueUrl);
      return batch(input, (entry) => {
        deleteMessage(queue, entry.ReceiptHandle);
        return {};
      });
    },
    ChangeMessageVisibility(input) {
      changeVisibility(queueByUrl(input.QueueUrl), input.ReceiptHandle, input.VisibilityTimeout);
      return {};
    },
    ChangeMessageVisibilityBatch(input) {
      const queue = queueByUrl(input.QueueUrl);
      return batch(input, (entry) => {
        changeVisibility(queue, entry.ReceiptHandle, entry.VisibilityTimeout);
        return {};
      });
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, {
        "Content-Type": "application/x-amz-json-1.0",
        "x-amzn-RequestId": randomUUID(),
        ...headers,
      });
      res.end(JSON.stringify(payload));
    };
    try {
      const target = String(req.headers["x-amz-target"] ?? "");
      const [service, operation = ""] = target.split(".");
      if (req.method !== "POST" || service !== "AmazonSQS") {
        throw new SqsError(
          "InvalidAction",
          "InvalidAction",
          `Only the AWS JSON protocol (X-Amz-Target: AmazonSQS.<Action>) is served; got "${target}".`,
        );
      }
      if (!String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ")) {
        throw new SqsError(
          "MissingAuthenticationToken",
          "MissingAuthenticationToken",
          "Request is missing Authentication Token",
          403,
        );
      }
      const run = operations[operation];
      if (!run)
        throw new SqsError(
          "InvalidAction",
          "InvalidAction",
          `The action ${operation} is not valid for this endpoint.`,
        );
      calls.set(operation, (calls.get(operation) ?? 0) + 1);
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
      const output = await run(input, res);
      if (output !== undefined) reply(200, output);
    } catch (error) {
      if (error instanceof SqsError) {
        reply(
          error.status,
          { __type: `com.amazonaws.sqs#${error.shape}`, message: error.message },
          {
            "x-amzn-query-error": `${error.queryCode};Sender`,
          },
        );
      } else {
        reply(
          500,
          { __type: "com.amazonaws.sqs#InternalError", message: String(error) },
          {
            "x-amzn-query-error": "InternalError;Receiver",
          },
        );
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint: origin,
    region,
    accountId,
    calls,
    async close() {
      for (const queue of queues.values()) {
        if (queue.timer) clearTimeout(queue.timer);
        for (const waiter of [...queue.waiters]) waiter();
      }
      queues.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
