/**
 * @module @zixly/cli
 * The `zixly` command line: `dev`, `migrate`, `demo`, tenants, endpoints, jobs, `workflow new`.
 *
 * @example
 * ```ts
 * import { runCli } from "@zixly/cli";
 * process.exitCode = await runCli(["jobs", "list", "--status", "failed"]);
 * ```
 */
export { runCli, usage } from "./cli.js";
export type { CliIo } from "./io.js";
