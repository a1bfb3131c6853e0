import type { z } from "zod";
import { HttpError } from "./errors.js";

/** Parses a request body with `schema`, or answers 400 naming the first problems. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const detail = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".") || "body"}: ${i.message}`)
    .join("; ");
  throw new HttpError(400, "invalid_request", detail);
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID; ids that are not UUIDs cannot exist, so callers answer 404 early. */
export const isUuid = (value: string): boolean => uuidPattern.test(value);
