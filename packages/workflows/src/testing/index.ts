/**
 * @module @zixly/workflows/testing
 * A test engine for workflows: runs a workflow in-process with the worker's step semantics
 * (memoised steps across attempts, the retry policy, Retry-After, `NonRetriableError`, waits,
 * callbacks, cancellation) in virtual time, against faked connectors.
 *
 * @example
 * ```ts
 * import { createTestEngine, loadEventFixture } from "@zixly/workflows/testing";
 *
 * const engine = createTestEngine();
 * const run = await engine.run(myWorkflow, {
 *   event: loadEventFixture(new URL("./my-workflow.fixture.json", import.meta.url)),
 *   connectors: { hubspot: { upsertContactByEmail: vi.fn(async () => contact) } },
 * });
 * expect(run).toMatchObject({ status: "COMPLETED", attempts: 1 });
 * ```
 */

export { loadEventFixture } from "./event-fixture.js";
export { type FakeConnectors, guardConnectors } from "./fake-connectors.js";
export {
  type CallbackDelivery,
  createTestEngine,
  type TestCallbackReply,
  type TestEngine,
  type TestEngineOptions,
  type TestLogEntry,
  type TestRunOptions,
  type TestRunResult,
  type TestRunStatus,
  type TestStep,
  type TestWait,
  type TestWaitingFor,
  testWorkflow,
} from "./test-engine.js";
