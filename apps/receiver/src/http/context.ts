import { randomUUID } from "node:crypto";
import type { SecretBox } from "@zixly/core";
import type { PrismaClient } from "@zixly/db";
import type { QueueDriver } from "@zixly/queue";
import type { ResultStore } from "@zixly/storage";
import type { WorkflowRegistry } from "@zixly/workflows";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import type { EnqueuedMarker } from "../ingest/enqueue-jobs.js";
import type { OAuthDeps } from "../routes/oauth.js";
import type { ReceiverMetrics } from "./metrics.js";
import type { RateLimiter } from "./rate-limit.js";

/** Everything the HTTP layer needs, passed in (no module reads the environment). */
export interface ReceiverDeps {
  prisma: PrismaClient;
  queue: QueueDriver;
  registry: WorkflowRegistry;
  secretBox: SecretBox;
  log: Logger;
  /** Per-tenant limits for `/api` and per-endpoint limits for webhooks; none = unlimited. */
  rateLimits?: { api?: RateLimiter; webhooks?: RateLimiter };
  /** Where large results live (AWS mode: S3): the jobs API hands out signed download URLs. */
  results?: { store: ResultStore; urlTtlSec: number };
  /** OAuth apps for the connect flow; without them `/authorize` answers 404. */
  oauth?: OAuthDeps;
  /** Batches the outbox marks of the webhook path (created by the app when not given). */
  enqueuedMarker?: EnqueuedMarker;
  /** Created by the app when not given; pass one to read metrics in tests. */
  metrics?: ReceiverMetrics;
  config: {
    adminToken: string;
    /** Base URL senders use; defaults to the request's own origin. */
    publicBaseUrl?: string | undefined;
    maxBodyBytes: number;
  };
}

export type Role = "ADMIN" | "EDITOR" | "VIEWER";

export interface AuthContext {
  tenantId: string;
  role: Role;
  apiKeyId: string;
}

declare global {
  namespace Express {
    interface Request {
      requestId: string;
      log: Logger;
      auth?: AuthContext;
    }
  }
}

const requestIdPattern = /^[A-Za-z0-9._-]{1,128}$/;

/** Gives each request an id (the caller's `X-Request-Id` when sane) that follows it into jobs and logs. */
export function requestContext(log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get("x-request-id");
    const requestId = given && requestIdPattern.test(given) ? given : randomUUID();
    req.requestId = requestId;
    // The request's logger is made on first use: most requests never log, and a pino child
    // per request was a measurable share of the webhook path's CPU.
    let child: Logger | undefined;
    Object.defineProperty(req, "log", {
      configurable: true,
      enumerable: false,
      get: () => {
        child ??= log.child({ requestId });
        return child;
      },
      set: (value: Logger) => {
        child = value;
      },
    });
    res.set("X-Request-Id", req.requestId);
    next();
  };
}
