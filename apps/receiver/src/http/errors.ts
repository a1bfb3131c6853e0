import type { ErrorRequestHandler, RequestHandler } from "express";
import { isDatabaseUnavailable } from "./db-unavailable.js";

/** Seconds a sender is asked to wait when the database is down. */
const DB_RETRY_AFTER_SECONDS = 10;

/** An error with an HTTP status and a stable machine-readable code, answered as JSON. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const notFound = (what = "resource"): HttpError =>
  new HttpError(404, "not_found", `${what} not found`);

/** 404 for routes that do not exist. */
export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, "not_found", `no such route (${req.method})`));
};

interface BodyParserError {
  type?: string;
  status?: number;
}

/**
 * Turns every error into `{ error: { code, message } }`. Unexpected errors are logged and
 * answered with a generic 500 — their messages may hold internals, never echo them.
 */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  if (err instanceof HttpError) {
    res
      .set(err.headers)
      .status(err.status)
      .json({ error: { code: err.code, message: err.message } });
    return;
  }
  const parserError = err as BodyParserError;
  if (parserError.type === "entity.too.large") {
    res
      .status(413)
      .json({ error: { code: "payload_too_large", message: "request body is larger than allowed" } });
    return;
  }
  if (parserError.type === "entity.parse.failed") {
    res.status(400).json({ error: { code: "malformed_json", message: "request body is not valid JSON" } });
    return;
  }
  if (typeof parserError.status === "number" && parserError.status >= 400 && parserError.status < 500) {
    res
      .status(parserError.status)
      .json({ error: { code: "bad_request", message: "the request could not be read" } });
    return;
  }
  if (isDatabaseUnavailable(err)) {
    req.log?.error({ err }, "database unavailable");
    res
      .set("Retry-After", String(DB_RETRY_AFTER_SECONDS))
      .status(503)
      .json({ error: { code: "unavailable", message: "storage is temporarily unavailable; retry later" } });
    return;
  }
  req.log?.error({ err }, "unhandled error");
  res.status(500).json({ error: { code: "internal", message: "internal error" } });
};
