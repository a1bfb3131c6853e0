/** Errors the queue package throws to its callers. */

/**
 * The backend could not take the messages in time (down, unreachable, timing out or refusing
 * writes). Nothing is known about whether they were stored; because enqueue is idempotent by
 * id, retrying the same messages later (e.g. from an outbox) is safe.
 */
export class QueueUnavailableError extends Error {
  override readonly name = "QueueUnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
