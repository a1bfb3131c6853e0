import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express, type NextFunction, type Request, type Response } from "express";

/** One request a sandbox received, as it arrived (headers are kept, `Authorization` included). */
export interface RecordedRequest {
  method: string;
  /** URL path without the query string, e.g. `/api.xro/2.0/Invoices/abc`. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON or form body; the raw text when it could not be parsed; `undefined` when empty. */
  body: unknown;
  time: Date;
}

/**
 * A failure to inject. `status` answers with that HTTP status (the sandbox fills in the vendor's
 * usual body and headers unless `body` / `headers` are given); `reset: true` destroys the socket
 * instead, which clients see as a network error.
 */
export interface FailureSpec {
  status?: number;
  reset?: boolean;
  headers?: Record<string, string>;
  /** A string is sent as-is (`text/plain` unless `headers` say otherwise); anything else as JSON. */
  body?: unknown;
  /** How many matching requests fail (default 1 for `failNext`; `failAll` never runs out). */
  times?: number;
  /**
   * Which requests fail: `"<METHOD> <path pattern>"` or just `"<path pattern>"`, with `:name`
   * segments, e.g. `"GET /api.xro/2.0/Invoices/:id"`. Default: every request.
   */
  route?: string;
}

/** Failure injection and the request log, shared by every sandbox. */
export interface SandboxControls {
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  /** Fail the next matching request(s) (`times`, default 1). */
  failNext(spec: FailureSpec): void;
  /** Fail every matching request until {@link SandboxControls.clearFailures}. */
  failAll(spec: Omit<FailureSpec, "times">): void;
  /** Drop all pending injected failures. */
  clearFailures(): void;
  /** How many logged requests match a method and a path pattern (`:name` segments match one segment). */
  count(method: string, pathPattern: string): number;
  /** Delay every answer by `ms` (a slow vendor; 0 turns it off). */
  setLatency(ms: number): void;
}

/** A running sandbox server. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Stop listening and drop every open connection at once. */
  close(): Promise<void>;
}

/** The canned body and headers a vendor sends for a status, used when a failure names only a status. */
export type FailureDefaults = (status: number) => { headers?: Record<string, string>; body?: unknown };

interface PendingFailure {
  spec: FailureSpec;
  remaining: number;
}

/** `true` when `path` matches a pattern such as `/crm/v3/objects/contacts/:id` (case-insensitive, like the vendors). */
export function matchesPath(pattern: string, path: string): boolean {
  const want = pattern.replace(/\/+$/, "").split("/");
  const got = path.replace(/\/+$/, "").split("/");
  if (want.length !== got.length) return false;
  return want.every(
    (segment, i) => segment.startsWith(":") || segment.toLowerCase() === got[i]?.toLowerCase(),
  );
}

function matchesRoute(route: string | undefined, method: string, path: string): boolean {
  if (!route) return true;
  const space = route.indexOf(" ");
  if (space === -1) return matchesPath(route, path);
  const routeMethod = route.slice(0, space).toUpperCase();
  return (
    (routeMethod === "*" || routeMethod === method.toUpperCase()) &&
    matchesPath(route.slice(space + 1).trim(), path)
  );
}

function parseBody(
  raw: string,
  contentType: string | undefined,
): { ok: true; value: unknown } | { ok: false; raw: string } {
  if (raw.length === 0) return { ok: true, value: undefined };
  const type = (contentType ?? "").toLowerCase();
  if (type.includes("application/x-www-form-urlencoded")) {
    return { ok: true, value: Object.fromEntries(new URLSearchParams(raw)) };
  }
  if (type.includes("json")) {
    try {
      return { ok: true, value: JSON.parse(raw) as unknown };
    } catch {
      return { ok: false, raw };
    }
  }
  return { ok: true, value: raw };
}

function flatQuery(req: Request): Record<string, string> {
  const url = new URL(req.originalUrl, "http://sandbox.local");
  return Object.fromEntries(url.searchParams);
}

/** Send a body the way a vendor would: strings as text, everything else as JSON. */
export function sendBody(
  res: Response,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.status(status);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (body === undefined || body === null) {
    res.end();
  } else if (typeof body === "string") {
    if (!res.hasHeader("content-type")) res.setHeader("content-type", "text/plain; charset=utf-8");
    res.send(body);
  } else {
    if (!res.hasHeader("content-type")) res.setHeader("content-type", "application/json; charset=utf-8");
    res.send(JSON.stringify(body));
  }
}

/** Parsed request body (set by {@link createSandboxApp}). */
export function bodyOf(res: Response): unknown {
  return res.locals.body as unknown;
}

/**
 * The Express app every sandbox starts from: reads and parses the body itself (so the log keeps
 * exactly what arrived), logs the request, then applies injected failures before any route runs.
 * `onBadJson` answers a body that claims JSON but does not parse, in the vendor's error shape.
 */
export function createSandboxApp(options: {
  defaults: FailureDefaults;
  onBadJson: (res: Response) => void;
}): { app: Express; controls: SandboxControls } {
  const requests: RecordedRequest[] = [];
  let failures: PendingFailure[] = [];
  let latencyMs = 0;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.use((req: Request, res: Response, next: NextFunction) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("error", next);
    req.on("end", () => (latencyMs > 0 ? setTimeout(handle, latencyMs) : handle()));
    const handle = () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const parsed = parseBody(raw, req.headers["content-type"]);
      const body = parsed.ok ? parsed.value : parsed.raw;
      res.locals.body = body;
      requests.push({
        method: req.method,
        path: req.path,
        query: flatQuery(req),
        headers: { ...req.headers },
        body,
        time: new Date(),
      });

      const failure = failures.find(
        (f) => f.remaining > 0 && matchesRoute(f.spec.route, req.method, req.path),
      );
      if (failure) {
        failure.remaining -= 1;
        failures = failures.filter((f) => f.remaining > 0);
        if (failure.spec.reset || failure.spec.status === undefined) {
          req.socket.destroy();
          return;
        }
        const canned = options.defaults(failure.spec.status);
        const headers = { ...canned.headers, ...failure.spec.headers };
        const failBody = "body" in failure.spec ? failure.spec.body : canned.body;
        sendBody(res, failure.spec.status, failBody, headers);
        return;
      }
      if (!parsed.ok) {
        options.onBadJson(res);
        return;
      }
      next();
    };
  });

  const controls: SandboxControls = {
    requests,
    failNext(spec) {
      failures.push({ spec, remaining: spec.times ?? 1 });
    },
    failAll(spec) {
      failures.push({ spec, remaining: Number.POSITIVE_INFINITY });
    },
    clearFailures() {
      failures = [];
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    count(method, pathPattern) {
      return requests.filter((r) => r.method === method.toUpperCase() && matchesPath(pathPattern, r.path))
        .length;
    },
  };
  return { app, controls };
}

/** Listen on `host:port` (default 127.0.0.1, port 0 = any free port). */
export async function listen(
  app: Express,
  options: { host?: string; port?: number },
): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once("error", reject);
  });
  // Keep-alive sockets would hold close() open; tests want it instant.
  server.keepAliveTimeout = 1_000;
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A fresh correlation / instance id, as vendors put in their error bodies. */
export function newId(): string {
  return randomUUID();
}
