// The shared queue contract against BullMQ on the real Redis, each test on its own key prefix.
import { randomUUID } from "node:crypto";
import { createBullmqDriver } from "./bullmq-driver.js";
import { describeQueueDriver } from "./driver.contract.js";
import { deleteKeysWithPrefix, TEST_REDIS_URL } from "./test-support/redis-keys.js";

const LEASE_MS = 2_000;

describeQueueDriver(
  "bullmq",
  () => {
    const prefix = `zixly-test-${randomUUID()}`;
    const driver = createBullmqDriver({
      connection: TEST_REDIS_URL,
      prefix,
      lockDurationMs: LEASE_MS,
      stalledIntervalMs: 500,
    });
    return {
      driver,
      async cleanup() {
        await driver.close({ timeoutMs: 2_000 });
        await deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
      },
    };
  },
  { leaseMs: LEASE_MS },
);
