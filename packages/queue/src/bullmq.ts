/**
 * The BullMQ (Redis) queue driver, as its own entry so that apps on another backend never load
 * BullMQ or ioredis.
 *
 * @example
 * ```ts
 * import { createBullmqDriver } from "@zixly/queue/bullmq";
 * const queue = createBullmqDriver({ connection: "redis://127.0.0.1:6379" });
 * ```
 *
 * @module
 */
export { type BullmqDriverOptions, createBullmqDriver } from "./bullmq-driver.js";
export type { RedisConnection } from "./redis-clients.js";
