// One Vitest run over the whole monorepo: a project per workspace package, so `npm test`
// prints one summary. Workspace packages resolve to their TypeScript sources through the
// `@zixly/source` export condition, so tests never depend on a stale build.
import { defineConfig } from "vitest/config";

const conditions = ["@zixly/source", "module", "node", "development|production"];
const packages = [
  ["core", "packages/core"],
  ["queue", "packages/queue"],
  ["workflows", "packages/workflows"],
  ["connectors", "packages/connectors"],
  ["db", "packages/db"],
  ["sandboxes", "packages/sandboxes"],
  ["receiver", "apps/receiver"],
  ["worker", "apps/worker"],
] as const;

export default defineConfig({
  test: {
    projects: packages.map(([name, dir]) => ({
      resolve: { conditions },
      ssr: { resolve: { conditions, externalConditions: ["@zixly/source"] } },
      test: {
        name,
        root: dir,
        include: ["src/**/*.test.ts", "test/**/*.test.ts"],
        environment: "node",
        testTimeout: 30_000,
        hookTimeout: 60_000,
        globalSetup: ["../../scripts/test-global-setup.ts"],
      },
    })),
  },
});
