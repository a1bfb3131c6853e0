import { type ConnectorName, toConnectorError, type VendorFailure } from "./http-error.js";

/** One connector operation as reported to {@link OnConnectorCall}, for metrics and logs. */
export interface ConnectorCall {
  connector: ConnectorName;
  /** The connector method, e.g. `getInvoice`, `upsertContactByEmail`. */
  operation: string;
  status: "ok" | "error";
  /** The vendor's HTTP status, when a response came back. */
  httpStatus?: number;
  durationMs: number;
}

/** Called once per connector operation, after it settles. Exceptions it throws are ignored. */
export type OnConnectorCall = (call: ConnectorCall) => void;

/** Timeout applied to each vendor call unless a connector is told otherwise. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** The result of one SDK call: the value and the HTTP status it came with. */
export interface SdkResult<T> {
  value: T;
  httpStatus?: number;
}

/** Errors this package threw, with the vendor failure behind each (to let upsert see a 409). */
const failures = new WeakMap<Error, VendorFailure>();

/** The vendor failure behind an error a connector threw, if there was one. */
export function vendorFailureOf(err: unknown): VendorFailure | undefined {
  return err instanceof Error ? failures.get(err) : undefined;
}

/** Per-connector plumbing: timing, `onCall`, error mapping with the connector's secrets. */
export interface CallRunner {
  /**
   * Run one SDK call: time it, bound it by the timeout, map its failure with `describe`, report
   * it to `onCall`.
   */
  vendor<T>(
    operation: string,
    call: () => Promise<SdkResult<T>>,
    describe: (err: unknown) => VendorFailure,
  ): Promise<T>;
  /** Run a composite operation (several vendor calls) and report it as one call too. */
  composite<T>(operation: string, run: () => Promise<T>): Promise<T>;
  /** Throw a mapped error for a failure found without the SDK failing (e.g. an empty 200). */
  fail(failure: VendorFailure): never;
}

class CallTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (!Number.isFinite(ms) || ms <= 0) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CallTimeout(`no response within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createCallRunner(options: {
  connector: ConnectorName;
  secrets: readonly string[];
  onCall?: OnConnectorCall;
  timeoutMs?: number;
}): CallRunner {
  const { connector, secrets, onCall } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;

  const report = (call: ConnectorCall) => {
    if (!onCall) return;
    try {
      onCall(call);
    } catch {
      // A metrics hook must never change the outcome of a vendor call.
    }
  };

  const mapped = (failure: VendorFailure): Error => {
    const error = toConnectorError(failure, secrets);
    failures.set(error, failure);
    return error;
  };

  return {
    async vendor(operation, call, describe) {
      const started = performance.now();
      try {
        const result = await withTimeout(call(), timeoutMs);
        const ok: ConnectorCall = {
          connector,
          operation,
          status: "ok",
          durationMs: performance.now() - started,
        };
        if (result.httpStatus !== undefined) ok.httpStatus = result.httpStatus;
        report(ok);
        return result.value;
      } catch (err) {
        // An error this package already mapped (see `fail`) passes through unchanged.
        const known = vendorFailureOf(err);
        const failure: VendorFailure =
          known ??
          (err instanceof CallTimeout ? { connector, operation, detail: err.message } : describe(err));
        const failed: ConnectorCall = {
          connector,
          operation,
          status: "error",
          durationMs: performance.now() - started,
        };
        if (failure.httpStatus !== undefined) failed.httpStatus = failure.httpStatus;
        report(failed);
        throw known ? err : mapped(failure);
      }
    },
    async composite(operation, run) {
      const started = performance.now();
      try {
        const value = await run();
        report({ connector, operation, status: "ok", durationMs: performance.now() - started });
        return value;
      } catch (err) {
        const failed: ConnectorCall = {
          connector,
          operation,
          status: "error",
          durationMs: performance.now() - started,
        };
        const httpStatus = vendorFailureOf(err)?.httpStatus;
        if (httpStatus !== undefined) failed.httpStatus = httpStatus;
        report(failed);
        throw err;
      }
    },
    fail(failure) {
      throw mapped(failure);
    },
  };
}
