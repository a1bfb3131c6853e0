import type { PrismaClient } from "@zixly/db";
import type { QueueDriver } from "@zixly/queue";
import { JOBS_QUEUE } from "@zixly/workflows";
import type { RequestHandler } from "express";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Outcomes of a webhook delivery, the `outcome` label of `webhook_events_received_total`. */
export type WebhookOutcome =
  | "accepted"
  | "duplicate"
  | "bad_signature"
  | "invalid"
  | "rate_limited"
  | "handshake";

const jobStatuses = ["QUEUED", "RUNNING", "WAITING", "COMPLETED", "FAILED", "CANCELLED"] as const;

/**
 * The receiver's metrics. Job and queue gauges are read from Postgres and the queue at
 * scrape time, so they are true across every receiver and worker process (the receiver is
 * the one process that exports them; workers export only what they observe themselves).
 */
export function createReceiverMetrics(deps: { prisma: PrismaClient; queue: QueueDriver }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency by method, route pattern and status code.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const webhookEvents = new Counter({
    name: "webhook_events_received_total",
    help: "Webhook deliveries by source and outcome (accepted, duplicate, bad_signature, invalid, rate_limited, handshake).",
    labelNames: ["source", "outcome"] as const,
    registers: [registry],
  });
  const jobsQueued = new Counter({
    name: "pipeline_jobs_queued_total",
    help: "Jobs created from accepted events, by workflow.",
    labelNames: ["job_type"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "pipeline_jobs",
    help: "Jobs in Postgres by status (read from the database at scrape time).",
    labelNames: ["status"] as const,
    registers: [registry],
    async collect() {
      const rows = await deps.prisma.job.groupBy({ by: ["status"], _count: { _all: true } });
      const byStatus = new Map(rows.map((r) => [r.status, r._count._all]));
      for (const status of jobStatuses) this.set({ status }, byStatus.get(status) ?? 0);
    },
  });
  new Gauge({
    name: "pipeline_queue_depth",
    help: "Messages in the job queue by state (waiting, active, delayed, dead), read at scrape time.",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const depth = await deps.queue.depth(JOBS_QUEUE);
      for (const [state, value] of Object.entries(depth)) this.set({ state }, value);
    },
  });
  new Gauge({
    name: "zixly_connections",
    help: "Vendor connections by provider and status (NEEDS_REAUTH means an operator must reconnect).",
    labelNames: ["provider", "status"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await deps.prisma.connection.groupBy({
        by: ["provider", "status"],
        _count: { _all: true },
      });
      for (const r of rows) this.set({ provider: r.provider, status: r.status }, r._count._all);
    },
  });

  /** Times every request under its route pattern (never the raw URL: bounded label values). */
  const httpMiddleware: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on("finish", () => {
      const route = req.route?.path ? `${req.baseUrl}${req.route.path}` : "unmatched";
      end({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  return {
    registry,
    httpMiddleware,
    webhook(source: string, outcome: WebhookOutcome, count = 1) {
      webhookEvents.inc({ source, outcome }, count);
    },
    jobsQueued(workflows: readonly string[]) {
      for (const workflow of workflows) jobsQueued.inc({ job_type: workflow });
    },
  };
}
export type ReceiverMetrics = ReturnType<typeof createReceiverMetrics>;
