// One Vitest run over the whole monorepo: a project per workspace package, so `npm test`
// prints one summary. Workspace packages resolve to their TypeScript sources through the
// `@zixly/source` export condition, so tests never depend on a stale build.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const globalSetup = fileURLToPath(new URL("./scripts/test-global-setup.ts", import.meta.url));

// No "module" condition: it makes Node load the AWS SDK's bundler-only build, which it cannot run.
const conditions = ["@zixly/source", "node", "development|production"];
const packages = [
  ["core", "packages/core"],
  ["queue", "packages/queue"],
  ["workflows", "packages/workflows"],
  ["connectors", "packages/connectors"],
  ["db", "packages/db"],
  ["storage", "packages/storage"],
  ["sandboxes", "packages/sandboxes"],
  ["receiver", "apps/receiver"],
  ["worker", "apps/worker"],
  ["cli", "apps/cli"],
  ["e2e", "e2e"],
  ["deploy", "deploy-tests"],
  ["observability", "observability-tests"],
] as const;

export default defineConfig({
  test: {
    projects: packages.map(([name, dir]) => ({
      resolve: { conditions },
      ssr: { resolve: { conditions, externalConditions: ["@zixly/source"] } },
      test: {
        name,
        root: dir,
        include: ["src/**/*.test.ts", "test/**/*.test.ts", "*.test.ts"],
        environment: "node",
        testTimeout: 30_000,
        hookTimeout: 60_000,
        globalSetup: [globalSetup],
      },
    })),
  },
});
