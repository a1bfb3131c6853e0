/**
 * How contract messages map onto SQS messages and back. The body is the message body as JSON;
 * everything the contract needs besides it travels in message attributes, which SQS cannot
 * change in place, so a retry re-sends the message with the next attempt number.
 */
import type { Message, MessageAttributeValue, SendMessageBatchRequestEntry } from "@aws-sdk/client-sqs";
import type { BackoffPolicy, QueueMessage } from "./queue-driver.js";

/** Message attribute names (SQS allows 10 per message; these are 9 at most). */
export const SQS_ATTRIBUTES = {
  /** The contract's message id. */
  id: "zixly-id",
  /** The number of the attempt this copy is for (1-based). */
  attempt: "zixly-attempt",
  maxAttempts: "zixly-max-attempts",
  /** `"<type>:<delayMs>"`. */
  backoff: "zixly-backoff",
  /** Epoch ms before which the message must not run (delays longer than SQS's 15 minutes). */
  notBefore: "zixly-not-before",
  /** The pending-id claim token, released on ack or dead letter. */
  claim: "zixly-claim",
  /** Dead letters only: why the last attempt failed, the source queue, when. */
  error: "zixly-error",
  queue: "zixly-queue",
  deadAt: "zixly-dead-at",
} as const;

/** SQS's largest per-message delay (`DelaySeconds`). */
export const SQS_MAX_DELAY_SECONDS = 900;
/** SQS's largest message (body plus attributes), in bytes, unless a queue sets a smaller one. */
export const SQS_MAX_MESSAGE_BYTES = 262_144;
/** SQS's longest visibility timeout (12 hours), also the longest a lease can be extended to. */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;
/** Dead-letter error texts are cut to this many characters. */
const MAX_ERROR_CHARS = 4_000;

/** A message as the driver handles it, whichever copy of it SQS holds. */
export interface Envelope {
  id: string;
  /** The body, already serialised as JSON. */
  body: string;
  attempt: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Epoch ms; set only when the delay exceeds what one SQS delay can hold. */
  notBefore?: number;
  claim?: string;
}

/** Characters SQS rejects in bodies and string attributes (outside XML 1.0's set). */
const INVALID_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * The body as JSON. JSON.stringify already escapes control characters and lone surrogates; the
 * two non-characters SQS also refuses (U+FFFE, U+FFFF) can only occur inside JSON strings, where
 * the escaped form means the same.
 */
export function serializeBody(body: unknown, where: string): string {
  const json = JSON.stringify(body);
  if (json === undefined) throw new TypeError(`${where}: body must be JSON-serialisable`);
  return json.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Throws a `TypeError` if SQS could not carry `id` in a string attribute. */
export function assertSqsMessageId(id: string): void {
  INVALID_CHARS.lastIndex = 0;
  if (INVALID_CHARS.test(id)) {
    throw new TypeError(`message id ${JSON.stringify(id)}: contains characters SQS does not accept`);
  }
  if (Buffer.byteLength(id) > 1024) throw new TypeError("message id: longer than 1024 bytes");
}

/** Replace characters SQS would refuse (error messages can hold anything). */
function sqsSafe(text: string): string {
  return text.replace(INVALID_CHARS, "\uFFFD");
}

const str = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });
const num = (value: number): MessageAttributeValue => ({ DataType: "Number", StringValue: String(value) });

/** The envelope of a message being enqueued. */
export function envelopeOf(
  message: QueueMessage<unknown>,
  defaults: { attempts: number; backoff: BackoffPolicy },
  claim: string | undefined,
  now: number,
  maxDelaySeconds: number,
): Envelope {
  const envelope: Envelope = {
    id: message.id,
    body: serializeBody(message.body, `message ${message.id}`),
    attempt: 1,
    maxAttempts: message.attempts ?? defaults.attempts,
    backoff: message.backoff ?? defaults.backoff,
  };
  if (claim !== undefined) envelope.claim = claim;
  const delayMs = message.delayMs ?? 0;
  if (delayMs > maxDelaySeconds * 1000) envelope.notBefore = now + delayMs;
  return envelope;
}

/**
 * `DelaySeconds` for a message due `delayMs` from now: whole seconds, rounded up so it never
 * arrives early, and at most one SQS delay (longer waits hop, see {@link Envelope.notBefore}).
 */
export function delaySecondsFor(delayMs: number, maxDelaySeconds: number): number {
  return Math.min(maxDelaySeconds, Math.max(0, Math.ceil(delayMs / 1000)));
}

function attributesOf(envelope: Envelope): Record<string, MessageAttributeValue> {
  const a = SQS_ATTRIBUTES;
  const attributes: Record<string, MessageAttributeValue> = {
    [a.id]: str(envelope.id),
    [a.attempt]: num(envelope.attempt),
    [a.maxAttempts]: num(envelope.maxAttempts),
    [a.backoff]: str(`${envelope.backoff.type}:${envelope.backoff.delayMs}`),
  };
  if (envelope.notBefore !== undefined) attributes[a.notBefore] = num(envelope.notBefore);
  if (envelope.claim !== undefined) attributes[a.claim] = str(envelope.claim);
  return attributes;
}

/** Bytes SQS counts against its size limit: the body plus each attribute's name, type and value. */
export function messageSize(
  entry: Pick<SendMessageBatchRequestEntry, "MessageBody" | "MessageAttributes">,
): number {
  let size = Buffer.byteLength(entry.MessageBody ?? "");
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? "");
    size += Buffer.byteLength(value.StringValue ?? "") + (value.BinaryValue?.length ?? 0);
  }
  return size;
}

/** One send of `envelope` due `delayMs` from now (`Id` is set by the caller for batches). */
export function sendEntryOf(
  envelope: Envelope,
  delayMs: number,
  maxDelaySeconds: number,
): Omit<SendMessageBatchRequestEntry, "Id"> {
  const entry = {
    MessageBody: envelope.body,
    MessageAttributes: attributesOf(envelope),
    DelaySeconds: delaySecondsFor(delayMs, maxDelaySeconds),
  };
  const size = messageSize(entry);
  if (size > SQS_MAX_MESSAGE_BYTES) {
    throw new RangeError(
      `message ${envelope.id}: ${size} bytes with its attributes, over SQS's ${SQS_MAX_MESSAGE_BYTES}; keep bodies to ids and references`,
    );
  }
  return entry;
}

/** The dead letter of `envelope`: the same message plus why, from where and when. */
export function deadLetterEntryOf(
  envelope: Envelope,
  error: string,
  queue: string,
  now: number,
): Omit<SendMessageBatchRequestEntry, "Id"> {
  const a = SQS_ATTRIBUTES;
  const attributes = attributesOf({ ...envelope, notBefore: undefined });
  attributes[a.error] = str(sqsSafe(error.slice(0, MAX_ERROR_CHARS)) || "(no message)");
  attributes[a.queue] = str(sqsSafe(queue));
  attributes[a.deadAt] = num(now);
  return { MessageBody: envelope.body, MessageAttributes: attributes };
}

function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

function positiveInt(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n >= 1 ? n : undefined;
}

function parseBackoff(value: string | undefined, fallback: BackoffPolicy): BackoffPolicy {
  const [type, delay] = (value ?? "").split(":");
  const delayMs = Number(delay);
  if ((type === "exponential" || type === "fixed") && Number.isFinite(delayMs) && delayMs >= 0) {
    return { type, delayMs };
  }
  return fallback;
}

/** A received message as an envelope, or why it cannot be one. */
export type Decoded = { ok: true; envelope: Envelope } | { ok: false; envelope: Envelope; reason: string };

/**
 * Read a received message. A message without the driver's attributes (sent by another tool)
 * still gets an envelope, with SQS's message id and receive count, so it can be dead-lettered
 * with a reason instead of looping.
 */
export function decodeMessage(
  message: Message,
  defaults: { attempts: number; backoff: BackoffPolicy },
): Decoded {
  const a = SQS_ATTRIBUTES;
  const id = attribute(message, a.id);
  const envelope: Envelope = {
    id: id ?? message.MessageId ?? "",
    body: message.Body ?? "",
    attempt:
      positiveInt(attribute(message, a.attempt)) ??
      positiveInt(message.Attributes?.ApproximateReceiveCount) ??
      1,
    maxAttempts: positiveInt(attribute(message, a.maxAttempts)) ?? defaults.attempts,
    backoff: parseBackoff(attribute(message, a.backoff), defaults.backoff),
  };
  const notBefore = Number(attribute(message, a.notBefore));
  if (Number.isFinite(notBefore) && notBefore > 0) envelope.notBefore = notBefore;
  const claim = attribute(message, a.claim);
  if (claim !== undefined) envelope.claim = claim;
  if (id === undefined) return { ok: false, envelope, reason: `not a Zixly message (no ${a.id} attribute)` };
  try {
    JSON.parse(envelope.body);
  } catch {
    return { ok: false, envelope, reason: "message body is not JSON" };
  }
  return { ok: true, envelope };
}

/** Fields of a dead letter read back from the dead-letter queue. */
export function deadLetterFieldsOf(message: Message): {
  queue: string | undefined;
  error: string | undefined;
  deadAt: number;
} {
  const a = SQS_ATTRIBUTES;
  return {
    queue: attribute(message, a.queue),
    error: attribute(message, a.error),
    deadAt: Number(attribute(message, a.deadAt) ?? message.Attributes?.SentTimestamp ?? 0),
  };
}
