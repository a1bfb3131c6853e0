import type { BackoffPolicy } from "./queue-driver.js";

/**
 * Options every BullMQ-based driver shares (Redis and the Postgres backend): the same
 * retry, lease and timeout knobs with the same defaults, documented once.
 */
export interface BullmqCommonOptions {
  /** Attempts for messages that set none. Default 3. */
  defaultAttempts?: number;
  /** Backoff for messages that set none. Default exponential from 1 s. */
  defaultBackoff?: BackoffPolicy;
  /** Jitter fraction on backoff delays, capped at 0.1 (±10%). Default 0.1. */
  jitter?: number;
  /**
   * Lease of a running message (BullMQ `lockDuration`), renewed every half lease while the
   * handler runs. A crashed consumer's messages come back after at most about
   * `lockDurationMs + 2 × stalledIntervalMs`. Default 30 000.
   */
  lockDurationMs?: number;
  /** How often each consumer looks for messages whose lease lapsed (BullMQ `stalledInterval`). Default 30 000. */
  stalledIntervalMs?: number;
  /**
   * How many times a message may lose its lease (crash, abandoned on stop) and come back before
   * it is dead-lettered instead. Lease losses do not use up attempts. Default 2.
   */
  maxStalledCount?: number;
  /** Receives connection and worker errors (they repeat while the backend is down). Default `console.error`. */
  onError?: (error: Error) => void;
}

/** Validators that name the driver in their errors. */
export function optionCheckers(driver: string) {
  return {
    positiveInteger(value: number, name: string): number {
      if (!(Number.isInteger(value) && value >= 1))
        throw new RangeError(`${driver}: ${name} must be an integer ≥ 1`);
      return value;
    },
    nonNegativeInteger(value: number, name: string): number {
      if (!(Number.isInteger(value) && value >= 0))
        throw new RangeError(`${driver}: ${name} must be an integer ≥ 0`);
      return value;
    },
  };
}

/** Report each error object once: the connection, the Queue and the Worker all forward the same one. */
export function onceReporter(onError: (error: Error) => void): (error: Error) => void {
  const seen = new WeakSet<Error>();
  return (error) => {
    if (seen.has(error)) return;
    seen.add(error);
    onError(error);
  };
}
