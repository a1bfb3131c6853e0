import type { ConnectorCall } from "@zixly/connectors";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The `status` label of connector metrics: bounded, whatever HTTP status a vendor invents. */
export function connectorCallStatus(call: Pick<ConnectorCall, "status" | "httpStatus">): string {
  if (call.status === "ok") return "ok";
  const code = call.httpStatus;
  if (code === undefined || code === 0) return "network_error";
  if (code === 429) return "rate_limited";
  if (code >= 500) return "server_error";
  if (code >= 400) return "client_error";
  return "error";
}

/** The worker's Prometheus metrics, on a registry of its own (tests create several workers). */
export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const processed = new Counter({
    name: "pipeline_jobs_processed_total",
    help: "Job attempts finished by this worker, by workflow and outcome (completed, failed, retrying).",
    labelNames: ["job_type", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "pipeline_job_duration_seconds",
    help: "Wall time of one job attempt, by workflow and outcome.",
    labelNames: ["job_type", "status"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const connectorCalls = new Counter({
    name: "connector_calls_total",
    help: "Vendor API calls by connector, operation and outcome (ok, client_error, server_error, rate_limited, network_error).",
    labelNames: ["connector", "operation", "status"] as const,
    registers: [registry],
  });
  const connectorDuration = new Histogram({
    name: "connector_call_duration_seconds",
    help: "Vendor API call latency by connector, operation and outcome.",
    labelNames: ["connector", "operation", "status"] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const tokenRefreshes = new Counter({
    name: "connector_token_refreshes_total",
    help: "OAuth access-token refreshes by provider and outcome (success, invalid_grant, error).",
    labelNames: ["provider", "outcome"] as const,
    registers: [registry],
  });
  const busy = new Gauge({
    name: "pipeline_worker_busy_slots",
    help: "Jobs this worker process is running right now.",
    registers: [registry],
  });
  const slots = new Gauge({
    name: "pipeline_worker_concurrency",
    help: "Jobs this worker process may run at once (WORKER_CONCURRENCY).",
    registers: [registry],
  });
  return {
    registry,
    setConcurrency(n: number) {
      slots.set(n);
    },
    jobStarted() {
      busy.inc();
    },
    jobEnded() {
      busy.dec();
    },
    recordConnectorCall(call: ConnectorCall) {
      const labels = {
        connector: call.connector,
        operation: call.operation,
        status: connectorCallStatus(call),
      };
      connectorCalls.inc(labels);
      connectorDuration.observe(labels, call.durationMs / 1000);
    },
    recordTokenRefresh(provider: string, outcome: "success" | "invalid_grant" | "error") {
      tokenRefreshes.inc({ provider, outcome });
    },
    recordAttempt(o: {
      workflow: string;
      status: "completed" | "failed" | "retrying" | "waiting" | "cancelled";
      durationMs: number;
    }) {
      processed.inc({ job_type: o.workflow, status: o.status });
      duration.observe({ job_type: o.workflow, status: o.status }, o.durationMs / 1000);
    },
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
