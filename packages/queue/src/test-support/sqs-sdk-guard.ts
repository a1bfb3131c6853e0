/**
 * Import first in SQS test files. Vitest hands its resolve conditions to the worker's Node
 * (`--conditions`); with the bundler-only `module` condition, Node picks the AWS SDK's dist-es
 * build, whose extensionless imports it cannot load, and the file would fail with a bare
 * ERR_MODULE_NOT_FOUND. This says what to change instead.
 */
const conditions = process.execArgv.flatMap((arg, index, all) => {
  if (arg === "--conditions" || arg === "-C") return [all[index + 1] ?? ""];
  if (arg.startsWith("--conditions=")) return [arg.slice("--conditions=".length)];
  return [];
});
if (conditions.includes("module")) {
  throw new Error(
    'The AWS SDK cannot load with Node\'s "module" condition. Remove "module" from `conditions` in ' +
      "the root vitest.config.ts (Node never uses it in production; it only picks bundler builds).",
  );
}

export {};
