// The shared queue contract against the SQS driver: on LocalStack when LOCALSTACK_ENDPOINT is
// set, otherwise on the wire-level stand-in (test-support/sqs-stand-in.ts) through the real
// AWS SDK. Pending ids live in a table of this file's own in the test Postgres.
import "./test-support/sqs-sdk-guard.js";
import { afterAll, beforeAll } from "vitest";
import { describeQueueDriver } from "./driver.contract.js";
import { createSqsDriver } from "./sqs-driver.js";
import {
  createTestPendingIds,
  type SqsBackend,
  startSqsBackend,
  type TestPendingIds,
  testQueues,
} from "./test-support/sqs-fixtures.js";

const LEASE_SECONDS = 2;

let backend: SqsBackend;
let pendingIds: TestPendingIds;

beforeAll(async () => {
  backend = await startSqsBackend();
  pendingIds = await createTestPendingIds();
});

afterAll(async () => {
  await pendingIds?.dispose();
  await backend?.close();
});

describeQueueDriver(
  "sqs",
  () => {
    const queues = testQueues(backend);
    const driver = createSqsDriver({
      region: backend.region,
      endpoint: backend.endpoint,
      credentials: backend.credentials,
      queueUrls: queues.resolve,
      pendingIds: pendingIds.store,
      visibilityTimeoutSec: LEASE_SECONDS,
      // Short polls keep the suite quick; production uses 20 s.
      waitTimeSeconds: 1,
    });
    return {
      driver,
      async cleanup() {
        await driver.close({ timeoutMs: 2_000 });
        await queues.deleteAll();
      },
    };
  },
  { leaseMs: LEASE_SECONDS * 1000 },
);
