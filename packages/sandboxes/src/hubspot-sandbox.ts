import { STATUS_CODES } from "node:http";
import type { NextFunction, Request, Response } from "express";
import {
  bodyOf,
  createSandboxApp,
  type FailureDefaults,
  listen,
  newId,
  type RunningServer,
  type SandboxControls,
  sendBody,
} from "./http-fixture.js";

/** Fixed defaults, so a demo run and its `.env` can name them. */
export const HUBSPOT_SANDBOX_DEFAULTS = {
  accessToken: "hubspot-sandbox-access-token",
} as const;

/** A contact as HubSpot's CRM v3 API returns it. */
export interface HubspotWireContact {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** A stored contact: every property it has a value for. */
export interface HubspotContactRecord {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

export interface HubspotSandboxOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Bearer tokens the API accepts. Default `[HUBSPOT_SANDBOX_DEFAULTS.accessToken]`. */
  validTokens?: string[];
  /**
   * When set, writing any other property answers 400 `PROPERTY_DOESNT_EXIST`, as HubSpot does for
   * properties the portal has not defined. Unset (default): every property name is accepted.
   */
  knownProperties?: string[];
  /** Clock. Default `Date.now`. */
  now?: () => number;
}

export interface HubspotSandboxState {
  /** Keyed by contact id. */
  contacts: Map<string, HubspotContactRecord>;
  validTokens: Set<string>;
}

/** A local stand-in for HubSpot's CRM contacts API (not HubSpot). */
export interface HubspotSandbox extends RunningServer, SandboxControls {
  readonly state: HubspotSandboxState;
  /** Every stored contact, in id order. */
  readonly contacts: HubspotContactRecord[];
  /** Store a contact directly (no request logged) and return it. */
  addContact(properties: Record<string, string>): HubspotContactRecord;
}

/** Properties HubSpot returns when a request names none. */
const DEFAULT_PROPERTIES = [
  "createdate",
  "email",
  "firstname",
  "hs_object_id",
  "lastmodifieddate",
  "lastname",
];
const SUPPORTED_OPERATORS = new Set([
  "EQ",
  "NEQ",
  "IN",
  "NOT_IN",
  "HAS_PROPERTY",
  "NOT_HAS_PROPERTY",
  "CONTAINS_TOKEN",
]);
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const CATEGORIES: Record<number, string> = {
  400: "VALIDATION_ERROR",
  401: "INVALID_AUTHENTICATION",
  403: "MISSING_SCOPES",
  404: "OBJECT_NOT_FOUND",
  409: "CONFLICT",
};

function errorBody(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = { status: "error", message, correlationId: newId() };
  const category = CATEGORIES[status];
  if (category) body.category = category;
  return { ...body, ...extra };
}

/** What HubSpot sends for a status when an injected failure names only the status. */
const hubspotFailureDefaults: FailureDefaults = (status) => {
  if (status === 429) {
    return {
      headers: {
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Max": "100",
        "X-HubSpot-RateLimit-Remaining": "0",
      },
      body: {
        status: "error",
        message: "You have reached your ten_secondly_rolling limit.",
        errorType: "RATE_LIMIT",
        correlationId: newId(),
        policyName: "TEN_SECONDLY_ROLLING",
        groupName: "publicapi:private-app:sandbox",
      },
    };
  }
  if (status >= 500) return { body: errorBody(status, "internal error") };
  return { body: errorBody(status, (STATUS_CODES[status] ?? "error").toLowerCase()) };
};

type Filter = { propertyName?: unknown; operator?: unknown; value?: unknown; values?: unknown };

function matchesFilter(record: HubspotContactRecord, filter: Filter): boolean {
  const name = String(filter.propertyName ?? "");
  const actual = name === "hs_object_id" ? record.id : record.properties[name];
  const same = (v: unknown) => actual !== undefined && actual.toLowerCase() === String(v).toLowerCase();
  const list = Array.isArray(filter.values) ? filter.values : [];
  switch (filter.operator) {
    case "EQ":
      return same(filter.value);
    case "NEQ":
      return !same(filter.value);
    case "IN":
      return list.some(same);
    case "NOT_IN":
      return !list.some(same);
    case "HAS_PROPERTY":
      return actual !== undefined;
    case "NOT_HAS_PROPERTY":
      return actual === undefined;
    case "CONTAINS_TOKEN":
      return actual?.toLowerCase().includes(String(filter.value).replaceAll("*", "").toLowerCase()) ?? false;
    default:
      return false;
  }
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Start a local stand-in for HubSpot's CRM v3 contacts API: search (`filterGroups`), create,
 * read, update; HubSpot's JSON shapes and error bodies (`409 CONFLICT` for a duplicate email,
 * `404 OBJECT_NOT_FOUND`, `401`, `429` with HubSpot's rate-limit headers). Point
 * `HUBSPOT_API_BASE_URL` at {@link HubspotSandbox.url}.
 *
 * @example
 * ```ts
 * const hubspot = await createHubspotSandbox();
 * hubspot.addContact({ email: "ana@example.com", firstname: "Ana" });
 * // POST `${hubspot.url}/crm/v3/objects/contacts/search` with Authorization: Bearer hubspot-sandbox-access-token
 * hubspot.count("PATCH", "/crm/v3/objects/contacts/:id"); // 0
 * await hubspot.close();
 * ```
 */
export async function createHubspotSandbox(options: HubspotSandboxOptions = {}): Promise<HubspotSandbox> {
  const now = options.now ?? Date.now;
  const known = options.knownProperties
    ? new Set([...options.knownProperties, ...DEFAULT_PROPERTIES].map((p) => p.toLowerCase()))
    : undefined;
  const state: HubspotSandboxState = {
    contacts: new Map(),
    validTokens: new Set(options.validTokens ?? [HUBSPOT_SANDBOX_DEFAULTS.accessToken]),
  };
  let nextId = 1001;

  const { app, controls } = createSandboxApp({
    defaults: hubspotFailureDefaults,
    onBadJson: (res) => sendBody(res, 400, errorBody(400, "Invalid input JSON on line 1")),
  });

  const byEmail = (email: string, exceptId?: string) =>
    [...state.contacts.values()].find(
      (c) => c.id !== exceptId && c.properties.email?.toLowerCase() === email.toLowerCase(),
    );

  const wire = (record: HubspotContactRecord, names?: string[]): HubspotWireContact => {
    const properties: Record<string, string | null> = {};
    for (const name of names ?? Object.keys(record.properties))
      properties[name] = record.properties[name] ?? null;
    return {
      id: record.id,
      properties,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      archived: record.archived,
    };
  };

  /**
   * Validate `{ properties }` from a create/update body; answers 400 itself and returns undefined.
   * HubSpot stores every value as a string; an empty string clears the property.
   */
  const readProperties = (res: Response, exceptId?: string): Record<string, string> | undefined => {
    const body = bodyOf(res) as { properties?: unknown } | undefined;
    const raw = body?.properties;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      sendBody(res, 400, errorBody(400, "Invalid input JSON: properties must be an object"));
      return undefined;
    }
    const out: Record<string, string> = {};
    const invalid: Record<string, unknown>[] = [];
    for (const [name, value] of Object.entries(raw)) {
      if (value !== null && typeof value === "object") {
        invalid.push({
          isValid: false,
          message: `${value} is not a valid value`,
          error: "INVALID_TYPE",
          name,
        });
        continue;
      }
      if (known && !known.has(name.toLowerCase())) {
        invalid.push({
          isValid: false,
          message: `Property "${name}" does not exist`,
          error: "PROPERTY_DOESNT_EXIST",
          name,
          localizedErrorMessage: `Property "${name}" does not exist`,
        });
        continue;
      }
      out[name] = value === null ? "" : String(value);
    }
    const email = out.email;
    if (email !== undefined && email !== "" && !EMAIL.test(email)) {
      invalid.push({
        isValid: false,
        message: `Email address ${email} is invalid`,
        error: "INVALID_EMAIL",
        name: "email",
      });
    }
    if (invalid.length > 0) {
      sendBody(res, 400, errorBody(400, `Property values were not valid: ${JSON.stringify(invalid)}`));
      return undefined;
    }
    if (email) {
      const clash = byEmail(email, exceptId);
      if (clash) {
        sendBody(res, 409, errorBody(409, `Contact already exists. Existing ID: ${clash.id}`));
        return undefined;
      }
      out.email = email.toLowerCase();
    }
    return out;
  };

  const apply = (record: HubspotContactRecord, changes: Record<string, string>) => {
    for (const [name, value] of Object.entries(changes)) {
      if (value === "") delete record.properties[name];
      else record.properties[name] = value;
    }
    const at = new Date(now()).toISOString();
    record.properties.lastmodifieddate = at;
    record.updatedAt = at;
  };

  const create = (changes: Record<string, string>): HubspotContactRecord => {
    const id = String(nextId++);
    const at = new Date(now()).toISOString();
    const record: HubspotContactRecord = {
      id,
      properties: { createdate: at, hs_object_id: id, lastmodifieddate: at },
      createdAt: at,
      updatedAt: at,
      archived: false,
    };
    apply(record, changes);
    record.updatedAt = at;
    state.contacts.set(id, record);
    return record;
  };

  const requireToken = (req: Request, res: Response, next: NextFunction) => {
    const presented = bearer(req);
    if (presented === undefined || !state.validTokens.has(presented)) {
      sendBody(
        res,
        401,
        errorBody(
          401,
          "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        ),
      );
      return;
    }
    next();
  };
  app.use("/crm", requireToken);

  app.post("/crm/v3/objects/contacts/search", (_req, res) => {
    const body = (bodyOf(res) ?? {}) as {
      filterGroups?: unknown;
      properties?: unknown;
      limit?: unknown;
      after?: unknown;
    };
    const groups = Array.isArray(body.filterGroups) ? (body.filterGroups as { filters?: unknown }[]) : [];
    if (groups.length > 5) {
      sendBody(res, 400, errorBody(400, "Too many filter groups: 5 is the maximum"));
      return;
    }
    for (const group of groups) {
      for (const filter of (Array.isArray(group.filters) ? group.filters : []) as Filter[]) {
        if (!SUPPORTED_OPERATORS.has(String(filter.operator))) {
          sendBody(
            res,
            400,
            errorBody(400, `Unsupported filter operator in this sandbox: ${String(filter.operator)}`),
          );
          return;
        }
      }
    }
    const limit = Math.min(Math.max(Number(body.limit ?? 10) || 10, 1), 200);
    const offset = Math.max(Number(body.after ?? 0) || 0, 0);
    const names =
      Array.isArray(body.properties) && body.properties.length > 0
        ? body.properties.map(String)
        : DEFAULT_PROPERTIES;
    const matching = [...state.contacts.values()]
      .filter((c) => !c.archived)
      .filter(
        (c) =>
          groups.length === 0 ||
          groups.some((g) =>
            ((Array.isArray(g.filters) ? g.filters : []) as Filter[]).every((f) => matchesFilter(c, f)),
          ),
      )
      .sort((a, b) => Number(a.id) - Number(b.id));
    const page = matching.slice(offset, offset + limit);
    const response: Record<string, unknown> = {
      total: matching.length,
      results: page.map((c) => wire(c, names)),
    };
    if (offset + limit < matching.length) response.paging = { next: { after: String(offset + limit) } };
    sendBody(res, 200, response);
  });

  app.post("/crm/v3/objects/contacts", (_req, res) => {
    const properties = readProperties(res);
    if (!properties) return;
    sendBody(res, 201, wire(create(properties)));
  });

  app.get("/crm/v3/objects/contacts/:id", (req, res) => {
    const query = req.query as Record<string, unknown>;
    const id = String(req.params.id);
    const record =
      query.idProperty === "email"
        ? byEmail(id)
        : query.idProperty === undefined || query.idProperty === "hs_object_id"
          ? state.contacts.get(id)
          : undefined;
    if (!record || record.archived) {
      sendBody(res, 404, errorBody(404, "Object not found.  objectId are usually numeric."));
      return;
    }
    const names =
      typeof query.properties === "string" && query.properties ? query.properties.split(",") : undefined;
    sendBody(res, 200, wire(record, names ?? DEFAULT_PROPERTIES));
  });

  app.patch("/crm/v3/objects/contacts/:id", (req, res) => {
    const record = state.contacts.get(String(req.params.id));
    if (!record || record.archived) {
      sendBody(res, 404, errorBody(404, "resource not found"));
      return;
    }
    const properties = readProperties(res, record.id);
    if (!properties) return;
    apply(record, properties);
    sendBody(res, 200, wire(record));
  });

  app.use((_req: Request, res: Response) => sendBody(res, 404, errorBody(404, "resource not found")));

  const server = await listen(app, options);
  return {
    ...server,
    ...controls,
    state,
    get contacts() {
      return [...state.contacts.values()].sort((a, b) => Number(a.id) - Number(b.id));
    },
    addContact(properties) {
      const email = properties.email;
      if (email && byEmail(email)) throw new Error(`a contact with email ${email} already exists`);
      return create(email ? { ...properties, email: email.toLowerCase() } : properties);
    },
  };
}
