// Summarises V8 .cpuprofile files (from `--cpu-prof`, written by BENCH_PROFILE=1 runs): busy time by
// package (native frames charged to their JavaScript caller) and self time by function.
//   node --import tsx bench/profile.ts <file.cpuprofile>... [--top 25]
import { readFileSync } from "node:fs";
import { basename } from "node:path";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/@prisma/client/…` → `@prisma/client`; repo files keep their path under the repo. */
function packageOf(url: string): string {
  if (!url) return "(native/idle)";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return url;
  const repo = /\/(apps|packages)\/([^/]+)\//.exec(url);
  return repo ? `@zixly/${repo[2]}` : basename(url);
}

export function summarise(file: string, top = 25) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native frames (writev, GC…) are charged to the package of the nearest JavaScript caller.
  const ownerUrl = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const url = byId.get(at)?.callFrame.url;
      if (url) return url;
    }
    return "";
  };
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === "(idle)") {
      idle += us;
      continue;
    }
    total += us;
    const where = packageOf(ownerUrl(id));
    const name = `${frame.functionName || "(anonymous)"} ${packageOf(frame.url)}:${frame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    pkg.set(where, (pkg.get(where) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ pct: Math.round((us / total) * 1000) / 10, name }));
  return {
    file: basename(file),
    busyMs: Math.round(total / 1000),
    idleMs: Math.round(idle / 1000),
    byPackage: rank(pkg),
    byFunction: rank(fn),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf("--top");
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  for (const file of args) {
    const s = summarise(file, top);
    console.log(
      `\n== ${s.file}: ${s.busyMs} ms busy, ${s.idleMs} ms idle (shares are of busy time)\n-- by package`,
    );
    for (const r of s.byPackage) console.log(`${String(r.pct).padStart(5)}%  ${r.name}`);
    console.log("-- by function (self time)");
    for (const r of s.byFunction) console.log(`${String(r.pct).padStart(5)}%  ${r.name}`);
  }
}
