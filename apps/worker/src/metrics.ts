import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

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
  return {
    registry,
    recordAttempt(o: { workflow: string; status: "completed" | "failed" | "retrying"; durationMs: number }) {
      processed.inc({ job_type: o.workflow, status: o.status });
      duration.observe({ job_type: o.workflow, status: o.status }, o.durationMs / 1000);
    },
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
