// The benchmark's workflow, loaded by the receiver and the worker through WORKFLOW_MODULES:
// a Shopify `orders/create` delivery becomes one job whose only work is one memoised step, so a
// run measures the pipeline (ingest, queue, claim, step memo, completion) and nothing else.
// Plain JavaScript, so the apps run from their built `dist/` without a TypeScript loader, as
// deployed.
import { defineWorkflow } from "@zixly/workflows";
import { z } from "zod";

export const benchNoop = defineWorkflow({
  id: "bench-noop",
  trigger: { source: "shopify", event: "orders.create" },
  input: z.object({ id: z.number() }).passthrough(),
  retries: { attempts: 5, backoff: { type: "exponential", delayMs: 200 } },
  async run({ input, step }) {
    return step.run("noop", () => ({ orderId: input.id }));
  },
});

export const workflows = [benchNoop];
