// A client-side stand-in for pg_stat_statements, preloaded into app processes by BENCH_PROFILE=1
// runs (`--import bench/lib/pg-stats-preload.ts`): counts and times every query the process sends
// through `pg`, by statement text, and writes them to $BENCH_PGSTATS_DIR/<app>-<pid>.json at exit.
// Times are client-side: from handing the query to `pg` until its answer is handled, so a busy
// event loop or a query queued behind another on the same connection counts too.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

const stats = new Map<string, { calls: number; totalMs: number }>();
const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
const normalise = (text: string) => text.replace(/\s+/g, " ").trim().slice(0, 160);

pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const config = args[0] as string | { text?: string } | undefined;
  const text = normalise(typeof config === "string" ? config : (config?.text ?? "(query object)"));
  const started = performance.now();
  const record = () => {
    const s = stats.get(text) ?? { calls: 0, totalMs: 0 };
    s.calls++;
    s.totalMs += performance.now() - started;
    stats.set(text, s);
  };
  // pg.Pool#query passes a callback; Prisma's transactions await the promise.
  const callbackAt = args.findIndex((a) => typeof a === "function");
  if (callbackAt >= 0) {
    const callback = args[callbackAt] as (...r: unknown[]) => unknown;
    args[callbackAt] = (...r: unknown[]) => {
      record();
      return callback(...r);
    };
  }
  const result = original.apply(this, args);
  if (result instanceof Promise) result.then(record, record);
  return result;
} as typeof pg.Client.prototype.query;

process.on("exit", () => {
  const dir = process.env.BENCH_PGSTATS_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const rows = [...stats]
    .map(([statement, s]) => ({ statement, ...s }))
    .sort((a, b) => b.totalMs - a.totalMs);
  const app = /apps\/([^/]+)\//.exec(process.argv[1] ?? "")?.[1] ?? "node";
  writeFileSync(join(dir, `${app}-${process.pid}.json`), JSON.stringify(rows, null, 1));
});
