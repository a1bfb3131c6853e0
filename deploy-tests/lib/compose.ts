// docker-compose.pipeline.yml as Docker Compose sees it: YAML (with merge keys), then
// variable interpolation as the Compose Specification defines it, then profiles.
import { parse } from "yaml";

// biome-ignore lint/suspicious/noExplicitAny: a compose document is arbitrary YAML
export type ComposeDoc = Record<string, any>;
// biome-ignore lint/suspicious/noExplicitAny: a service is arbitrary YAML
export type Service = Record<string, any>;

/** Parses compose YAML the way Compose does (YAML 1.1 merge keys `<<` included). */
export function parseComposeYaml(text: string): ComposeDoc {
  return parse(text, { merge: true, maxAliasCount: -1 }) as ComposeDoc;
}

export class InterpolationError extends Error {}

/**
 * Interpolates one string: `$$` (a literal `$`), `$VAR`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+replacement}`, `${VAR+replacement}`.
 * Defaults and replacements may themselves hold `${...}`.
 */
export function interpolate(input: string, env: Record<string, string | undefined>): string {
  let out = "";
  let i = 0;
  while (i < input.length) {
    const ch = input[i]!;
    if (ch !== "$") {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
      continue;
    }
    if (next === "{") {
      // Find the matching brace (defaults may nest ${...}).
      let depth = 1;
      let j = i + 2;
      while (j < input.length && depth > 0) {
        if (input[j] === "{") depth++;
        else if (input[j] === "}") depth--;
        j++;
      }
      if (depth !== 0) throw new InterpolationError(`unterminated \${ in ${input}`);
      out += expand(input.slice(i + 2, j - 1), env);
      i = j;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i + 1));
    if (bare) {
      out += env[bare[0]] ?? "";
      i += 1 + bare[0].length;
      continue;
    }
    throw new InterpolationError(`invalid $ in ${input}`);
  }
  return out;
}

function expand(body: string, env: Record<string, string | undefined>): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
  if (!match) throw new InterpolationError(`invalid interpolation \${${body}}`);
  const [, name, op, arg = ""] = match;
  const value = env[name!];
  const unsetOrEmpty = value === undefined || value === "";
  switch (op) {
    case undefined:
      return value ?? "";
    case ":-":
      return unsetOrEmpty ? interpolate(arg, env) : value!;
    case "-":
      return value === undefined ? interpolate(arg, env) : value;
    case ":?":
      if (unsetOrEmpty) throw new InterpolationError(`required variable ${name} is missing a value: ${arg}`);
      return value!;
    case "?":
      if (value === undefined)
        throw new InterpolationError(`required variable ${name} is missing a value: ${arg}`);
      return value;
    case ":+":
      return unsetOrEmpty ? "" : interpolate(arg, env);
    case "+":
      return value === undefined ? "" : interpolate(arg, env);
    default:
      throw new InterpolationError(`invalid interpolation \${${body}}`);
  }
}

/** Interpolates every string value of a document (not the keys, as Compose does). */
export function interpolateDoc<T>(node: T, env: Record<string, string | undefined>): T {
  if (typeof node === "string") return interpolate(node, env) as T;
  if (Array.isArray(node)) return node.map((item) => interpolateDoc(item, env)) as T;
  if (node && typeof node === "object") {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateDoc(v, env)])) as T;
  }
  return node;
}

/** Services enabled with the given profiles (those without `profiles` always are). */
export function activeServices(doc: ComposeDoc, profiles: readonly string[]): Record<string, Service> {
  return Object.fromEntries(
    Object.entries(doc.services as Record<string, Service>).filter(
      ([, svc]) => !svc.profiles || (svc.profiles as string[]).some((p) => profiles.includes(p)),
    ),
  );
}

/** A service's `environment`, list or map form, as a map (`KEY` alone → undefined). */
export function serviceEnvironment(svc: Service): Record<string, string | undefined> {
  const env = svc.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      (env as string[]).map((entry) => {
        const eq = entry.indexOf("=");
        return eq < 0 ? [entry, undefined] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(env as Record<string, unknown>).map(([k, v]) => [k, v === null ? undefined : String(v)]),
  );
}

export interface EnvFileRef {
  path: string;
  required: boolean;
}

/** A service's `env_file` entries, normalised. */
export function serviceEnvFiles(svc: Service): EnvFileRef[] {
  const raw = svc.env_file;
  if (!raw) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((entry: string | { path: string; required?: boolean | string }) =>
    typeof entry === "string"
      ? { path: entry, required: true }
      : {
          path: entry.path,
          required: entry.required === undefined ? true : String(entry.required) !== "false",
        },
  );
}

export interface PortMapping {
  hostIp?: string;
  published?: string;
  target: number;
  protocol: string;
}

/** A service's `ports`, short (`[ip:][host:]container[/proto]`) or long syntax. */
export function servicePorts(svc: Service): PortMapping[] {
  return ((svc.ports ?? []) as Array<string | number | Record<string, unknown>>).map((port) => {
    if (typeof port === "object") {
      return {
        hostIp: port.host_ip as string | undefined,
        published: port.published === undefined ? undefined : String(port.published),
        target: Number(port.target),
        protocol: (port.protocol as string | undefined) ?? "tcp",
      };
    }
    const [spec, protocol = "tcp"] = String(port).split("/");
    const parts = spec!.split(":");
    const target = Number(parts.pop());
    const published = parts.pop();
    const hostIp = parts.length > 0 ? parts.join(":") : undefined;
    return { hostIp, published, target, protocol };
  });
}

/** `depends_on`, list or map form, as `{ service: { condition, required } }`. */
export function serviceDependsOn(svc: Service): Record<string, { condition: string; required: boolean }> {
  const raw = svc.depends_on;
  if (!raw) return {};
  if (Array.isArray(raw)) {
    return Object.fromEntries(
      (raw as string[]).map((name) => [name, { condition: "service_started", required: true }]),
    );
  }
  return Object.fromEntries(
    Object.entries(raw as Record<string, { condition?: string; required?: boolean }>).map(([name, dep]) => [
      name,
      { condition: dep.condition ?? "service_started", required: dep.required ?? true },
    ]),
  );
}

/** The healthcheck command as one string (empty when there is none or it is disabled). */
export function healthcheckCommand(svc: Service): string {
  const hc = svc.healthcheck as { test?: string | string[]; disable?: boolean } | undefined;
  if (!hc || hc.disable || !hc.test) return "";
  if (typeof hc.test === "string") return hc.test;
  if (hc.test[0] === "NONE") return "";
  return hc.test.slice(1).join(" ");
}
