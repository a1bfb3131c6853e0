/**
 * What PostgreSQL cannot store that Redis can. BullMQ's PostgreSQL backend keeps a message body
 * as `jsonb` and ids and queue names as `text`: neither accepts a NUL character, and `jsonb`
 * rejects an unpaired UTF-16 surrogate (which `text` would silently turn into U+FFFD, changing
 * the id). Such a message would fail on every attempt to enqueue it, which to a caller looks
 * like an outage (and an outbox would retry it forever), so the driver rejects it up front with
 * a `TypeError`, before any I/O, like every other invalid message.
 */
import type { QueueMessage } from "./queue-driver.js";

/** A NUL or an unpaired surrogate as JSON.stringify writes them (escaped), not after a `\`. */
const UNSTORABLE_JSON_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;
/** An unpaired surrogate in a plain string. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throws a `TypeError` unless PostgreSQL can store `text` as a `text` value unchanged. */
export function assertPostgresText(text: string, what: string): void {
  if (text.includes("\u0000") || UNPAIRED_SURROGATE.test(text)) {
    throw new TypeError(`${what}: PostgreSQL cannot store a NUL character or an unpaired surrogate`);
  }
}

/**
 * Throws a `TypeError` naming the first message whose id or body PostgreSQL cannot store.
 * JSON.stringify escapes NUL and unpaired surrogates (and writes well-formed pairs as they are),
 * so one scan of the JSON text finds them anywhere in the body, keys included.
 */
export function assertPostgresMessages(messages: readonly QueueMessage<unknown>[]): void {
  messages.forEach((message, index) => {
    const where = `message ${index} (${JSON.stringify(message.id)})`;
    assertPostgresText(message.id, `${where} id`);
    const json = JSON.stringify(message.body);
    if (json !== undefined && UNSTORABLE_JSON_ESCAPE.test(json)) {
      throw new TypeError(
        `${where} body: PostgreSQL (jsonb) cannot store a NUL character (\\u0000) or an unpaired surrogate`,
      );
    }
  });
}
