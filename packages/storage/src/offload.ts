/**
 * The threshold rule: a JSON value small enough stays inline (in Postgres); a larger one goes
 * to the {@link ResultStore} and Postgres keeps a {@link ResultRef} in its place.
 */
import type { PutOptions, ResultStore } from "./result-store.js";

/** Default inline limit: values whose JSON is larger go to the result store. */
export const DEFAULT_INLINE_LIMIT_BYTES = 64 * 1024;

/** What Postgres keeps instead of a value that went to the result store. */
export interface ResultRef {
  /** Marks the object as a reference, not a workflow's own value. */
  $ref: "result-store";
  key: string;
  size: number;
  contentType: string;
}

/** True for a {@link ResultRef} (as read back from a JSON column). */
export function isResultRef(value: unknown): value is ResultRef {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.$ref === "result-store" && typeof v.key === "string" && typeof v.size === "number";
}

/** Inputs of {@link storeIfLarge}. */
export interface StoreIfLargeInput extends PutOptions {
  store: ResultStore;
  tenantId: string;
  jobId: string;
  /** Object name if it goes to the store, e.g. `RESULT_NAME` or `stepOutputName(step)`. */
  name: string;
  value: unknown;
  /** Largest JSON (UTF-8 bytes) kept inline. Default {@link DEFAULT_INLINE_LIMIT_BYTES}. */
  limitBytes?: number;
}

/**
 * Keep `value` inline if its JSON fits in `limitBytes`, else write it to the store as
 * `application/json` and return the reference to keep instead.
 *
 * @example
 * ```ts
 * const stored = await storeIfLarge({ store, tenantId, jobId, name: RESULT_NAME, value: result, at: job.createdAt });
 * await prisma.job.update({ where: { id: jobId }, data: { result: stored } });
 * ```
 */
export async function storeIfLarge(input: StoreIfLargeInput): Promise<unknown> {
  const json = JSON.stringify(input.value);
  if (json === undefined) return input.value;
  const limit = input.limitBytes ?? DEFAULT_INLINE_LIMIT_BYTES;
  if (Buffer.byteLength(json) <= limit) return input.value;
  const stored = await input.store.put(
    input.tenantId,
    input.jobId,
    input.name,
    json,
    "application/json",
    input.at ? { at: input.at } : {},
  );
  const ref: ResultRef = { $ref: "result-store", ...stored };
  return ref;
}
