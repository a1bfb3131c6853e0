// Two load generators, both run in the bench's own process (a separate process from every
// server): a closed-loop one (N connections, as fast as answers come back) and a paced one
// (a steady rate, for the end-to-end runs). Every request is a new, signed delivery.
import { Agent, request } from "node:http";
import autocannon from "autocannon";
import { type Delivery, shopifyDelivery } from "./shopify.js";
import { percentile, round } from "./util.js";

export interface ClosedLoopResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  accepted: number;
  non2xx: number;
  errors: number;
  durationS: number;
}

/** `connections` connections posting new signed deliveries to `url` for `durationS` seconds (or `amount` requests). */
export async function closedLoop(opts: {
  url: string;
  secret: string;
  connections: number;
  durationS?: number;
  amount?: number;
}): Promise<ClosedLoopResult> {
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.durationS ?? 10 }),
    method: "POST",
    requests: [
      {
        setupRequest: (req: Record<string, unknown>) => {
          const d = shopifyDelivery(opts.secret);
          return { ...req, method: "POST", headers: d.headers, body: d.body };
        },
      },
    ],
  });
  const durationS = result.duration;
  return {
    rps: round(result["2xx"] / durationS),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    accepted: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationS: round(durationS, 2),
  };
}

export interface PacedResult {
  sent: number;
  accepted: number;
  failed: number;
  /** Why requests failed: `status <code>` or the connection error's code, with counts. */
  failures: Record<string, number>;
  /** Requests actually started per second over the window. */
  achievedRps: number;
  /** Most requests the generator was ever behind its schedule (in-flight cap reached). */
  maxBehind: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Posts new signed deliveries at `rate` per second for `durationMs`, on a 1 ms-granular schedule,
 * with at most `maxInFlight` requests open (past that it falls behind, which `maxBehind` shows).
 * `rate = Infinity` makes it closed-loop with `maxInFlight` connections. `onSecond` is called every second.
 */
export async function paced(opts: {
  url: string;
  secret: string;
  rate: number;
  durationMs: number;
  maxInFlight: number;
  onSecond?: (state: { elapsedS: number; sent: number; accepted: number; inFlight: number }) => void;
}): Promise<PacedResult> {
  const target = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxInFlight });
  const latencies: number[] = [];
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const fail = (why: string) => {
    failed++;
    failures[why] = (failures[why] ?? 0) + 1;
  };
  let inFlight = 0;
  let maxBehind = 0;
  const start = performance.now();

  const send = (delivery: Delivery) => {
    const began = performance.now();
    inFlight++;
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: { ...delivery.headers, "content-length": Buffer.byteLength(delivery.body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          inFlight--;
          latencies.push(performance.now() - began);
          if (res.statusCode === 202) accepted++;
          else fail(`status ${res.statusCode}`);
        });
      },
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      inFlight--;
      fail(err.code ?? err.message);
    });
    req.end(delivery.body);
  };

  await new Promise<void>((resolve) => {
    let lastSecond = 0;
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      const done = elapsed >= opts.durationMs;
      const due = Math.floor((Math.min(elapsed, opts.durationMs) / 1000) * opts.rate);
      while (sent < due && inFlight < opts.maxInFlight) {
        send(shopifyDelivery(opts.secret));
        sent++;
      }
      if (Number.isFinite(due)) maxBehind = Math.max(maxBehind, due - sent);
      const second = Math.floor(elapsed / 1000);
      if (second > lastSecond) {
        lastSecond = second;
        opts.onSecond?.({ elapsedS: second, sent, accepted, inFlight });
      }
      if (done) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const windowS = opts.durationMs / 1000;
  // Let the last answers come back before reading the figures.
  const deadline = performance.now() + 30_000;
  while (inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    sent,
    accepted,
    failed,
    failures,
    achievedRps: round(sent / windowS),
    maxBehind,
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
  };
}
