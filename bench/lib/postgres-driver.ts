// Whether the Postgres-only pipeline can be benchmarked yet: the queue package must export
// `createPostgresDriver`, and both apps must accept QUEUE_DRIVER=postgres.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { APP_MODE, ROOT } from "./procs.js";

interface EnvModule {
  ReceiverEnv?: { shape: { QUEUE_DRIVER: { safeParse(v: unknown): { success: boolean } } } };
  WorkerEnv?: { shape: { QUEUE_DRIVER: { safeParse(v: unknown): { success: boolean } } } };
}

export async function postgresDriverStatus(): Promise<{ available: boolean; note: string }> {
  const driverFile = join(ROOT, "packages/queue/src/postgres-driver.ts");
  if (!existsSync(driverFile)) {
    return { available: false, note: "packages/queue/src/postgres-driver.ts does not exist yet" };
  }
  try {
    const mod = (await import(pathToFileURL(driverFile).href)) as { createPostgresDriver?: unknown };
    if (typeof mod.createPostgresDriver !== "function") {
      return {
        available: false,
        note: "packages/queue/src/postgres-driver.ts does not export createPostgresDriver yet",
      };
    }
  } catch (err) {
    return {
      available: false,
      note: `packages/queue/src/postgres-driver.ts does not load: ${(err as Error).message}`,
    };
  }
  for (const app of ["receiver", "worker"] as const) {
    const file = join(ROOT, `apps/${app}/${APP_MODE === "dist" ? "dist/env.js" : "src/env.ts"}`);
    const env = (await import(pathToFileURL(file).href)) as EnvModule;
    const schema = app === "receiver" ? env.ReceiverEnv : env.WorkerEnv;
    if (!schema?.shape.QUEUE_DRIVER.safeParse("postgres").success) {
      return { available: false, note: `apps/${app} does not accept QUEUE_DRIVER=postgres yet (${file})` };
    }
  }
  return {
    available: true,
    note: "QUEUE_DRIVER=postgres (createPostgresDriver, BullMQ's PostgreSQL backend)",
  };
}
