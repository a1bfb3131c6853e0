/**
 * The conformance suite every {@link QueueDriver} must pass, for driver test files. Imports
 * Vitest, so it is a separate entry and never loaded by production code.
 *
 * @example
 * ```ts
 * import { describeQueueDriver } from "@zixly/queue/testing";
 * describeQueueDriver("bullmq", async () => ({ driver: createBullmqDriver(opts), cleanup }), { leaseMs: 2_000 });
 * ```
 *
 * @module
 */
import type { QueueDriver } from "./queue-driver.js";

export {
  type DriverUnderTest,
  describeQueueDriver,
  type QueueDriverSuiteOptions,
} from "./driver.contract.js";
export type { QueueDriver };
