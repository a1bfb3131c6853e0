import { JOBS_QUEUE } from "@zixly/workflows";
import { Router } from "express";
import type { ReceiverDeps } from "../http/context.js";

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timed out")), ms).unref()),
  ]);

/** `/health`: the process is alive. `/ready`: it can reach the database and the queue. */
export function healthRoutes(deps: ReceiverDeps): Router {
  const router = Router();
  router.get("/health", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/ready", async (_req, res) => {
    const [db, queue] = await Promise.allSettled([
      withTimeout(deps.prisma.$queryRaw`SELECT 1`, 2_000),
      withTimeout(deps.queue.depth(JOBS_QUEUE), 2_000),
    ]);
    const checks = {
      database: db.status === "fulfilled" ? "ok" : "unavailable",
      queue: queue.status === "fulfilled" ? "ok" : "unavailable",
    };
    const ready = checks.database === "ok" && checks.queue === "ok";
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not_ready", checks });
  });
  return router;
}
