import express, { type Express } from "express";
import helmet from "helmet";
import { requireApiKey } from "./http/auth.js";
import type { ReceiverDeps } from "./http/context.js";
import { requestContext } from "./http/context.js";
import { errorHandler, unknownRoute } from "./http/errors.js";
import { createReceiverMetrics } from "./http/metrics.js";
import { rateLimit } from "./http/rate-limit.js";
import { createEnqueuedMarker } from "./ingest/enqueue-jobs.js";
import { callbackRoutes } from "./routes/callbacks.js";
import { connectionRoutes } from "./routes/connections.js";
import { endpointRoutes } from "./routes/endpoints.js";
import { healthRoutes } from "./routes/health.js";
import { jobActionRoutes } from "./routes/job-actions.js";
import { jobRoutes } from "./routes/jobs.js";
import { oauthAuthorizeRoutes, oauthCallbackRoutes } from "./routes/oauth.js";
import { tenantRoutes } from "./routes/tenants.js";
import { webhookRoutes } from "./routes/webhooks.js";

/** Body limit for the JSON API (webhooks have their own, configurable one). */
const API_BODY_LIMIT = "100kb";

/** Builds the receiver's Express app: webhooks, the admin/jobs API, health. No I/O at build time. */
export function createReceiverApp(input: ReceiverDeps): Express {
  const deps = {
    ...input,
    metrics: input.metrics ?? createReceiverMetrics(input),
    enqueuedMarker: input.enqueuedMarker ?? createEnqueuedMarker(input.prisma, input.log),
  };
  const app = express();
  app.disable("x-powered-by");
  app.use(helmet());
  app.set("trust proxy", false);
  app.use(requestContext(deps.log));
  app.use(deps.metrics.httpMiddleware);
  app.get("/metrics", async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.use(healthRoutes(deps));
  // Webhooks first, before any JSON parser: signatures are computed over the raw bytes.
  app.use("/webhooks", webhookRoutes(deps));
  app.use("/callbacks", callbackRoutes(deps));
  const oauth = deps.oauth ?? { providers: {}, apiUrls: {} };
  app.use("/oauth", oauthCallbackRoutes(deps, oauth));

  const api = express.Router();
  api.use(express.json({ limit: API_BODY_LIMIT }));
  // Every /api route but the operator's tenant bootstrap needs an API key, and counts against
  // its tenant's rate limit.
  const authenticated = [
    requireApiKey(deps.prisma),
    rateLimit(deps.rateLimits?.api, (req) => req.auth?.tenantId),
  ];
  api.use(tenantRoutes(deps, authenticated));
  api.use(...authenticated);
  api.use("/endpoints", endpointRoutes(deps));
  api.use("/connections", oauthAuthorizeRoutes(deps, oauth));
  api.use("/connections", connectionRoutes(deps));
  api.use("/jobs", jobActionRoutes(deps));
  api.use("/jobs", jobRoutes(deps));
  app.use("/api", api);

  app.use(unknownRoute);
  app.use(errorHandler);
  return app;
}
