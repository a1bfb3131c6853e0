/**
 * @module @zixly/worker
 * The worker as a library (embedding, tests); `main.ts` is the process.
 *
 * @example
 * ```ts
 * const worker = await startWorker({ prisma, queue, registry, secretBox, log, concurrency: 10, retryMaxDelayMs: 60_000, urls: {} });
 * await worker.stop();
 * ```
 */

export { loadWorkerEnv, type WorkerEnv } from "./env.js";
export { startWorkerFromEnv, type WorkerOverrides } from "./from-env.js";
export { type RunningWorker, startWorker, type WorkerDeps } from "./worker.js";
