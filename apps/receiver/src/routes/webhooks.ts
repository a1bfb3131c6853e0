import express, { type ErrorRequestHandler, Router } from "express";
import type { ReceiverDeps } from "../http/context.js";
import { HttpError, notFound } from "../http/errors.js";
import type { ReceiverMetrics } from "../http/metrics.js";
import { rateLimit } from "../http/rate-limit.js";
import { isUuid } from "../http/validate.js";
import { createJobEnqueuer, type EnqueuedMarker } from "../ingest/enqueue-jobs.js";
import { createEventInbox } from "../ingest/persist-events.js";
import { unstorableReason } from "../ingest/storable.js";
import { getSource, WebhookPayloadError, WebhookVerificationError } from "../sources/index.js";
import { createEndpointCache } from "./endpoint-cache.js";
import { baseUrlOf } from "./endpoints.js";

/**
 * `POST /webhooks/:endpointId`: verify the sender's signature over the raw bytes, parse,
 * persist events and jobs in one transaction, then enqueue. Answers `202 { eventIds, jobIds }`
 * (or `200` with the original ids for a delivery already accepted).
 */
export function webhookRoutes(
  deps: ReceiverDeps & { metrics: ReceiverMetrics; enqueuedMarker: EnqueuedMarker },
): Router {
  const { prisma, queue, registry, secretBox, metrics } = deps;
  const router = Router();
  const endpoints = createEndpointCache(prisma, secretBox);
  const inbox = createEventInbox(prisma, registry);
  const enqueue = createJobEnqueuer(prisma, queue, registry, deps.enqueuedMarker);

  router.post(
    "/:endpointId",
    rateLimit(
      deps.rateLimits?.webhooks,
      (req) => String(req.params.endpointId ?? ""),
      () => metrics.webhook("unknown", "rate_limited"),
    ),
    // Any content type: the signature covers the bytes, whatever the sender labelled them.
    express.raw({ type: () => true, limit: deps.config.maxBodyBytes }),
    async (req, res) => {
      const endpointId = req.params.endpointId as string;
      if (!isUuid(endpointId)) throw notFound("webhook endpoint");
      const endpoint = await endpoints.get(endpointId);
      if (!endpoint) throw notFound("webhook endpoint");
      const source = getSource(endpoint.source);
      if (!source) {
        throw new HttpError(
          501,
          "source_not_supported",
          `deliveries from ${endpoint.source} are not supported yet`,
        );
      }
      const { secrets } = endpoint;
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }

      let result: ReturnType<typeof source.verifyAndParse>;
      try {
        result = source.verifyAndParse(
          {
            method: req.method,
            url: `${baseUrlOf(req, deps.config.publicBaseUrl)}${req.originalUrl}`,
            headers,
            rawBody,
          },
          { id: endpoint.id, secrets, settings: (endpoint.settings ?? {}) as Record<string, unknown> },
        );
      } catch (err) {
        if (err instanceof WebhookVerificationError) {
          metrics.webhook(endpoint.source, "bad_signature");
          req.log.warn({ endpointId, source: endpoint.source }, "webhook signature did not verify");
          throw new HttpError(401, "invalid_signature", err.message);
        }
        if (err instanceof WebhookPayloadError) {
          metrics.webhook(endpoint.source, "invalid");
          throw new HttpError(400, err.code, err.message);
        }
        throw err;
      }

      if (result.kind === "reply") {
        if (result.learnedSecret !== undefined) {
          // Conditional write: of two racing handshakes only one can set the secret.
          const stored = await prisma.webhookEndpoint.updateMany({
            where: { id: endpoint.id, secretCiphertext: null },
            data: { secretCiphertext: secretBox.encrypt(result.learnedSecret) },
          });
          endpoints.forget(endpoint.id);
          if (stored.count === 0) {
            metrics.webhook(endpoint.source, "bad_signature");
            throw new HttpError(
              401,
              "invalid_signature",
              "X-Hook-Secret handshake refused: this endpoint already has a secret",
            );
          }
        }
        metrics.webhook(endpoint.source, result.outcome === "heartbeat" ? "handshake" : result.outcome);
        res.status(result.status).set(result.headers ?? {});
        res.send(result.body ?? "");
        return;
      }

      for (const event of result.events) {
        const problem = unstorableReason(event);
        if (problem) {
          metrics.webhook(endpoint.source, "invalid");
          throw new HttpError(400, "invalid_payload", `the payload cannot be stored: ${problem}`);
        }
      }
      const persisted = await inbox.persist(
        { id: endpoint.id, tenantId: endpoint.tenantId, source: endpoint.source },
        result.events,
        req.requestId,
      );
      if (persisted.newJobs.length > 0) {
        try {
          await enqueue(persisted.newJobs);
        } catch (err) {
          // Accepted all the same: the rows are committed and the outbox relay enqueues them.
          req.log.warn(
            { err, jobIds: persisted.newJobs.map((j) => j.id) },
            "queue unavailable; jobs left to the outbox relay",
          );
        }
      }
      metrics.webhook(
        endpoint.source,
        persisted.duplicate ? "duplicate" : "accepted",
        Math.max(1, persisted.eventIds.length),
      );
      metrics.jobsQueued(persisted.newJobs.map((j) => j.workflow));
      req.log.info(
        {
          endpointId,
          source: endpoint.source,
          eventIds: persisted.eventIds,
          jobIds: persisted.jobIds,
          duplicate: persisted.duplicate,
        },
        persisted.duplicate ? "webhook delivery repeated an accepted event" : "webhook accepted",
      );
      // Not res.json(): Express would hash every answer into an ETag no sender ever revalidates.
      res
        .status(persisted.duplicate ? 200 : 202)
        .type("application/json")
        .end(JSON.stringify({ eventIds: persisted.eventIds, jobIds: persisted.jobIds }));
    },
  );

  // Bodies the parser refused (too large, unreadable) count as invalid deliveries.
  router.use(((err, req, _res, next) => {
    const type = (err as { type?: string }).type;
    if (type === "entity.too.large" || type === "request.aborted" || type === "encoding.unsupported") {
      metrics.webhook("unknown", "invalid");
      req.log.warn({ type }, "webhook body refused");
    }
    next(err);
  }) as ErrorRequestHandler);

  return router;
}
