// Standalone config for `npx vitest run --root observability-tests`. The root vitest.config.ts
// runs the same files as its "observability" project. Workspace packages resolve to their
// TypeScript sources through the `@zixly/source` export condition, as in the root config.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const conditions = ["@zixly/source", "module", "node", "development|production"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["@zixly/source"] } },
  test: {
    include: ["*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: [fileURLToPath(new URL("../scripts/test-global-setup.ts", import.meta.url))],
  },
});
