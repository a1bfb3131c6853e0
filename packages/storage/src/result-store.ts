/**
 * Where large job results, step outputs and job records live, and how their keys are built and
 * checked. A key is `<prefix><tenant>/<yyyy>/<mm>/<job id>/<name>`; the tenant is part of the
 * key's structure, and every read (signed URL, get) first checks that the key belongs to the
 * tenant asking, so one tenant can never be handed another tenant's object.
 */
import { createHash } from "node:crypto";

/** Where an object was written. Postgres keeps this (the key), never the bytes. */
export interface StoredObject {
  key: string;
  /** Bytes written. */
  size: number;
  contentType: string;
}

/** Options of {@link ResultStore.put}. */
export interface PutOptions {
  /**
   * The time that picks the `<yyyy>/<mm>` folder (UTC). Pass the job's creation time so every
   * object of one job lands in one folder even when the job runs across a month boundary.
   * Default: now.
   */
  at?: Date;
}

/** An object read back. */
export interface ResultObject {
  body: Buffer;
  contentType: string;
}

/** Large results and artifacts of jobs, per tenant. */
export interface ResultStore {
  /** Write `body` as `<prefix><tenantId>/<yyyy>/<mm>/<jobId>/<name>`. */
  put(
    tenantId: string,
    jobId: string,
    name: string,
    body: Buffer | Uint8Array | string,
    contentType: string,
    options?: PutOptions,
  ): Promise<StoredObject>;
  /**
   * A short-lived URL that downloads `key` without credentials. Throws {@link TenantKeyError}
   * unless `key` is one of `tenantId`'s keys. `ttlSec`: 1 s to 7 days (SigV4's limit; a URL
   * signed with temporary credentials also dies with them).
   */
  signedUrl(tenantId: string, key: string, ttlSec: number): Promise<string>;
  /** Read `key`; `undefined` when it does not exist. Throws {@link TenantKeyError} like {@link signedUrl}. */
  get(tenantId: string, key: string): Promise<ResultObject | undefined>;
}

/**
 * A key that is not the asking tenant's (or not a result key at all). Answer it like a missing
 * object (404), so a tenant cannot even learn that another tenant's key exists.
 */
export class TenantKeyError extends Error {
  override readonly name = "TenantKeyError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Tenant and job ids: what a UUID or a slug needs, and nothing that could change a key's structure. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** One segment of an object name: S3's "safe" characters, never `.`/`..` or a leading dot. */
const NAME_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._~!'()*-]{0,199}$/;
/** S3's limit on key length (UTF-8 bytes). */
const MAX_KEY_BYTES = 1_024;
const PREFIX = /^([A-Za-z0-9!_.*'()-]+\/)*$/;

/** Throws a `TypeError` unless `prefix` is empty or a key prefix ending in `/` (as Terraform's `results_prefix`). */
export function assertKeyPrefix(prefix: string): void {
  if (!PREFIX.test(prefix) || prefix.split("/").some((s) => s === "." || s === "..")) {
    throw new TypeError(
      `key prefix ${JSON.stringify(prefix)}: must be empty or end in "/", with S3-safe characters`,
    );
  }
}

function assertId(value: string, what: string): void {
  if (typeof value !== "string" || !ID.test(value)) {
    throw new TypeError(`${what} ${JSON.stringify(value)}: 1-128 letters, digits, "-" or "_"`);
  }
}

function assertName(name: string): void {
  const segments = typeof name === "string" ? name.split("/") : [];
  if (segments.length === 0 || segments.length > 8 || !segments.every((s) => NAME_SEGMENT.test(s))) {
    throw new TypeError(
      `object name ${JSON.stringify(name)}: 1-8 "/"-separated segments of letters, digits and . _ ~ ! ' ( ) * -, not starting with "."`,
    );
  }
}

/** The key of an object, after checking every part. */
export function resultKey(parts: {
  prefix: string;
  tenantId: string;
  jobId: string;
  name: string;
  at: Date;
}): string {
  assertKeyPrefix(parts.prefix);
  assertId(parts.tenantId, "tenant id");
  assertId(parts.jobId, "job id");
  assertName(parts.name);
  const yyyy = String(parts.at.getUTCFullYear()).padStart(4, "0");
  const mm = String(parts.at.getUTCMonth() + 1).padStart(2, "0");
  const key = `${parts.prefix}${parts.tenantId}/${yyyy}/${mm}/${parts.jobId}/${parts.name}`;
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new TypeError(`object key longer than ${MAX_KEY_BYTES} bytes`);
  return key;
}

/** The parts of a well-formed result key under `prefix`, or `undefined`. */
export function parseResultKey(
  prefix: string,
  key: string,
): { tenantId: string; yyyy: string; mm: string; jobId: string; name: string } | undefined {
  if (typeof key !== "string" || !key.startsWith(prefix) || Buffer.byteLength(key) > MAX_KEY_BYTES)
    return undefined;
  const [tenantId = "", yyyy = "", mm = "", jobId = "", ...name] = key.slice(prefix.length).split("/");
  if (!ID.test(tenantId) || !ID.test(jobId) || !/^\d{4}$/.test(yyyy) || !/^(0[1-9]|1[0-2])$/.test(mm)) {
    return undefined;
  }
  if (name.length === 0 || name.length > 8 || !name.every((s) => NAME_SEGMENT.test(s))) return undefined;
  return { tenantId, yyyy, mm, jobId, name: name.join("/") };
}

/**
 * Throws {@link TenantKeyError} unless `key` is a well-formed result key of `tenantId` under
 * `prefix`. Structural, not a prefix match: `t1` does not own `t10/...`, and `..` or extra
 * slashes never pass.
 */
export function assertTenantKey(prefix: string, tenantId: string, key: string): void {
  const parts = parseResultKey(prefix, key);
  if (!parts || parts.tenantId !== tenantId) {
    throw new TenantKeyError("no such result for this tenant");
  }
}

/** Name of a job's full execution record. */
export const JOB_RECORD_NAME = "record.json";
/** Name of a job's result. */
export const RESULT_NAME = "result.json";

/**
 * Name of a step's output: `steps/<step>.json`. Step names may hold any character; those S3
 * keys should not get are replaced, with a short hash of the original so two names never meet.
 */
export function stepOutputName(stepName: string): string {
  let safe = stepName
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^\./, "_")
    .slice(0, 150);
  if (safe !== stepName || safe.length === 0) {
    safe = `${safe}-${createHash("sha256").update(stepName).digest("hex").slice(0, 12)}`;
  }
  return `steps/${safe}.json`;
}
