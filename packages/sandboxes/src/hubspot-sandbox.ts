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

/** A stored CRM object (contact, deal or note): every property it has a value for. */
export interface HubspotObjectRecord {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** A stored contact. */
export type HubspotContactRecord = HubspotObjectRecord;

/** The CRM object types the sandbox serves. */
export type HubspotObjectType = "contacts" | "deals" | "notes";

/** An association between two stored objects, both directions implied. */
export interface HubspotAssociation {
  fromType: HubspotObjectType;
  fromId: string;
  toType: HubspotObjectType;
  toId: string;
  /** HubSpot's association type id, as written (e.g. 202 note → contact, 214 note → deal, 3 deal → contact). */
  typeId: number;
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
  /** Keyed by deal id. */
  deals: Map<string, HubspotObjectRecord>;
  /** Keyed by note id. */
  notes: Map<string, HubspotObjectRecord>;
  associations: HubspotAssociation[];
  validTokens: Set<string>;
}

/** A local stand-in for HubSpot's CRM contacts, deals and notes APIs (not HubSpot). */
export interface HubspotSandbox extends RunningServer, SandboxControls {
  readonly state: HubspotSandboxState;
  /** Every stored contact, in id order. */
  readonly contacts: HubspotContactRecord[];
  /** Every stored deal, in id order. */
  readonly deals: HubspotObjectRecord[];
  /** Every stored note, in id order. */
  readonly notes: HubspotObjectRecord[];
  /** Store a contact directly (no request logged) and return it. */
  addContact(properties: Record<string, string>): HubspotContactRecord;
  /** Store a deal, associated with `contactIds` (type 3, deal → contact), and return it. */
  addDeal(properties: Record<string, string>, options?: { contactIds?: string[] }): HubspotObjectRecord;
  /** The ids of the `toType` objects associated with an object, in either direction. */
  associatedIds(type: HubspotObjectType, id: string, toType: HubspotObjectType): string[];
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
const DEFAULT_PROPERTIES_BY_TYPE: Record<HubspotObjectType, string[]> = {
  contacts: DEFAULT_PROPERTIES,
  deals: [
    "amount",
    "closedate",
    "createdate",
    "dealname",
    "dealstage",
    "hs_lastmodifieddate",
    "hs_object_id",
    "pipeline",
  ],
  notes: ["hs_createdate", "hs_lastmodifieddate", "hs_note_body", "hs_object_id", "hs_timestamp"],
};
/** The modification-time property of each type (contacts use the legacy name). */
const MODIFIED: Record<HubspotObjectType, string> = {
  contacts: "lastmodifieddate",
  deals: "hs_lastmodifieddate",
  notes: "hs_lastmodifieddate",
};
const CREATED: Record<HubspotObjectType, string> = {
  contacts: "createdate",
  deals: "createdate",
  notes: "hs_createdate",
};
/** HUBSPOT_DEFINED association types a note create may name: id → target type. */
const NOTE_ASSOCIATION_TYPES: Record<number, HubspotObjectType> = { 202: "contacts", 214: "deals" };
/** Singular names, as association labels spell them (`contact_to_deal`). */
const SINGULAR: Record<HubspotObjectType, string> = { contacts: "contact", deals: "deal", notes: "note" };
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

/** A query parameter HubSpot accepts comma-separated or repeated (the SDK repeats it). */
function listParam(value: unknown): string[] | undefined {
  const parts = (Array.isArray(value) ? value : [value])
    .filter((v): v is string => typeof v === "string")
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
  return parts.length > 0 ? parts : undefined;
}

/**
 * Start a local stand-in for HubSpot's CRM v3 objects API for contacts, deals and notes:
 * search (`filterGroups`), create, read (with `associations`), update; notes with associations
 * (HubSpot-defined types 202 → contact, 214 → deal); HubSpot's JSON shapes and error bodies
 * (`409 CONFLICT` for a duplicate email, `404 OBJECT_NOT_FOUND`, `401`, `429` with HubSpot's
 * rate-limit headers). Point `HUBSPOT_API_BASE_URL` at {@link HubspotSandbox.url}.
 *
 * @example
 * ```ts
 * const hubspot = await createHubspotSandbox();
 * const ana = hubspot.addContact({ email: "ana@example.com", firstname: "Ana" });
 * hubspot.addDeal({ dealname: "Acme renewal", dealstage: "closedwon" }, { contactIds: [ana.id] });
 * // POST `${hubspot.url}/crm/v3/objects/contacts/search` with Authorization: Bearer hubspot-sandbox-access-token
 * hubspot.count("PATCH", "/crm/v3/objects/contacts/:id"); // 0
 * await hubspot.close();
 * ```
 */
export async function createHubspotSandbox(options: HubspotSandboxOptions = {}): Promise<HubspotSandbox> {
  const now = options.now ?? Date.now;
  const known = options.knownProperties
    ? new Set(
        [...options.knownProperties, ...Object.values(DEFAULT_PROPERTIES_BY_TYPE).flat()].map((p) =>
          p.toLowerCase(),
        ),
      )
    : undefined;
  const state: HubspotSandboxState = {
    contacts: new Map(),
    deals: new Map(),
    notes: new Map(),
    associations: [],
    validTokens: new Set(options.validTokens ?? [HUBSPOT_SANDBOX_DEFAULTS.accessToken]),
  };
  // One sequence for every type: ids of different types never collide, so a test that mixes
  // them up fails with a 404.
  let nextId = 1001;
  const store = (type: HubspotObjectType) => state[type];

  const { app, controls } = createSandboxApp({
    defaults: hubspotFailureDefaults,
    onBadJson: (res) => sendBody(res, 400, errorBody(400, "Invalid input JSON on line 1")),
  });

  const byEmail = (email: string, exceptId?: string) =>
    [...state.contacts.values()].find(
      (c) => c.id !== exceptId && c.properties.email?.toLowerCase() === email.toLowerCase(),
    );

  const associatedIds = (type: HubspotObjectType, id: string, toType: HubspotObjectType): string[] => {
    const ids = state.associations.flatMap((a) => {
      if (a.fromType === type && a.fromId === id && a.toType === toType) return [a.toId];
      if (a.toType === type && a.toId === id && a.fromType === toType) return [a.fromId];
      return [];
    });
    return [...new Set(ids)].filter((other) => store(toType).get(other)?.archived === false);
  };

  const associate = (association: HubspotAssociation) => {
    const exists = state.associations.some(
      (a) =>
        a.fromType === association.fromType &&
        a.fromId === association.fromId &&
        a.toType === association.toType &&
        a.toId === association.toId,
    );
    if (!exists) state.associations.push(association);
  };

  const wire = (
    type: HubspotObjectType,
    record: HubspotObjectRecord,
    names?: string[],
    associations?: string[],
  ): HubspotWireContact & { associations?: Record<string, { results: { id: string; type: string }[] }> } => {
    const properties: Record<string, string | null> = {};
    for (const name of names ?? Object.keys(record.properties))
      properties[name] = record.properties[name] ?? null;
    const out: HubspotWireContact & {
      associations?: Record<string, { results: { id: string; type: string }[] }>;
    } = {
      id: record.id,
      properties,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      archived: record.archived,
    };
    const groups: Record<string, { results: { id: string; type: string }[] }> = {};
    for (const toType of associations ?? []) {
      if (!(toType in DEFAULT_PROPERTIES_BY_TYPE)) continue;
      const ids = associatedIds(type, record.id, toType as HubspotObjectType);
      // HubSpot leaves out a type with no associations.
      if (ids.length > 0) {
        const label = `${SINGULAR[type]}_to_${SINGULAR[toType as HubspotObjectType]}`;
        groups[toType] = { results: ids.map((id) => ({ id, type: label })) };
      }
    }
    if (Object.keys(groups).length > 0) out.associations = groups;
    return out;
  };

  /**
   * Validate `{ properties }` from a create/update body; answers 400/409 itself and returns
   * undefined. HubSpot stores every value as a string; an empty string clears the property.
   */
  const readProperties = (
    type: HubspotObjectType,
    res: Response,
    exceptId?: string,
  ): Record<string, string> | undefined => {
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
    const email = type === "contacts" ? out.email : undefined;
    if (email !== undefined && email !== "" && !EMAIL.test(email)) {
      invalid.push({
        isValid: false,
        message: `Email address ${email} is invalid`,
        error: "INVALID_EMAIL",
        name: "email",
      });
    }
    if (type === "notes" && exceptId === undefined && !out.hs_timestamp) {
      invalid.push({
        isValid: false,
        message: "hs_timestamp is required",
        error: "REQUIRED_PROPERTY",
        name: "hs_timestamp",
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

  const apply = (type: HubspotObjectType, record: HubspotObjectRecord, changes: Record<string, string>) => {
    for (const [name, value] of Object.entries(changes)) {
      if (value === "") delete record.properties[name];
      else record.properties[name] = value;
    }
    const at = new Date(now()).toISOString();
    record.properties[MODIFIED[type]] = at;
    record.updatedAt = at;
  };

  const create = (type: HubspotObjectType, changes: Record<string, string>): HubspotObjectRecord => {
    const id = String(nextId++);
    const at = new Date(now()).toISOString();
    const record: HubspotObjectRecord = {
      id,
      properties: { [CREATED[type]]: at, hs_object_id: id, [MODIFIED[type]]: at },
      createdAt: at,
      updatedAt: at,
      archived: false,
    };
    apply(type, record, changes);
    record.updatedAt = at;
    store(type).set(id, record);
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

  /** `{ associations: [{ to: { id }, types: [{ associationCategory, associationTypeId }] }] }` of a note create. */
  const readNoteAssociations = (res: Response): HubspotAssociation[] | undefined => {
    const body = bodyOf(res) as { associations?: unknown } | undefined;
    const raw = body?.associations ?? [];
    if (!Array.isArray(raw)) {
      sendBody(res, 400, errorBody(400, "Invalid input JSON: associations must be an array"));
      return undefined;
    }
    const out: HubspotAssociation[] = [];
    for (const entry of raw as { to?: { id?: unknown }; types?: unknown }[]) {
      const toId = String(entry?.to?.id ?? "");
      const types = Array.isArray(entry?.types)
        ? (entry.types as { associationCategory?: unknown; associationTypeId?: unknown }[])
        : [];
      if (toId === "" || types.length === 0) {
        sendBody(res, 400, errorBody(400, "Invalid input JSON: each association needs to.id and types"));
        return undefined;
      }
      for (const t of types) {
        const typeId = Number(t.associationTypeId);
        const toType =
          t.associationCategory === "HUBSPOT_DEFINED" ? NOTE_ASSOCIATION_TYPES[typeId] : undefined;
        if (!toType) {
          sendBody(
            res,
            400,
            errorBody(
              400,
              `Invalid association type ${String(t.associationCategory)}/${String(t.associationTypeId)} for a note in this sandbox`,
            ),
          );
          return undefined;
        }
        if (store(toType).get(toId)?.archived !== false) {
          sendBody(
            res,
            400,
            errorBody(400, `${SINGULAR[toType]} ${toId} does not exist`, { category: "VALIDATION_ERROR" }),
          );
          return undefined;
        }
        out.push({ fromType: "notes", fromId: "", toType, toId, typeId });
      }
    }
    return out;
  };

  const routes = (type: HubspotObjectType) => {
    const base = `/crm/v3/objects/${type}`;
    const names = (value: unknown) => listParam(value) ?? DEFAULT_PROPERTIES_BY_TYPE[type];

    app.post(`${base}/search`, (_req, res) => {
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
      const wanted =
        Array.isArray(body.properties) && body.properties.length > 0
          ? body.properties.map(String)
          : DEFAULT_PROPERTIES_BY_TYPE[type];
      const matching = [...store(type).values()]
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
        results: page.map((c) => wire(type, c, wanted)),
      };
      if (offset + limit < matching.length) response.paging = { next: { after: String(offset + limit) } };
      sendBody(res, 200, response);
    });

    app.post(base, (_req, res) => {
      const properties = readProperties(type, res);
      if (!properties) return;
      const associations = type === "notes" ? readNoteAssociations(res) : [];
      if (!associations) return;
      const record = create(type, properties);
      for (const a of associations) associate({ ...a, fromId: record.id });
      sendBody(res, 201, wire(type, record));
    });

    app.get(`${base}/:id`, (req, res) => {
      const query = req.query as Record<string, unknown>;
      const id = String(req.params.id);
      const record =
        type === "contacts" && query.idProperty === "email"
          ? byEmail(id)
          : query.idProperty === undefined || query.idProperty === "hs_object_id"
            ? store(type).get(id)
            : undefined;
      if (!record || record.archived) {
        sendBody(res, 404, errorBody(404, "Object not found.  objectId are usually numeric."));
        return;
      }
      sendBody(res, 200, wire(type, record, names(query.properties), listParam(query.associations)));
    });

    app.patch(`${base}/:id`, (req, res) => {
      const record = store(type).get(String(req.params.id));
      if (!record || record.archived) {
        sendBody(res, 404, errorBody(404, "resource not found"));
        return;
      }
      const properties = readProperties(type, res, record.id);
      if (!properties) return;
      apply(type, record, properties);
      sendBody(res, 200, wire(type, record));
    });
  };
  routes("contacts");
  routes("deals");
  routes("notes");

  app.use((_req: Request, res: Response) => sendBody(res, 404, errorBody(404, "resource not found")));

  const server = await listen(app, options);
  const sorted = (type: HubspotObjectType) =>
    [...store(type).values()].sort((a, b) => Number(a.id) - Number(b.id));
  return {
    ...server,
    ...controls,
    state,
    get contacts() {
      return sorted("contacts");
    },
    get deals() {
      return sorted("deals");
    },
    get notes() {
      return sorted("notes");
    },
    addContact(properties) {
      const email = properties.email;
      if (email && byEmail(email)) throw new Error(`a contact with email ${email} already exists`);
      return create("contacts", email ? { ...properties, email: email.toLowerCase() } : properties);
    },
    addDeal(properties, dealOptions = {}) {
      const deal = create("deals", { pipeline: "default", ...properties });
      for (const contactId of dealOptions.contactIds ?? []) {
        if (!state.contacts.has(contactId)) throw new Error(`no contact ${contactId}`);
        associate({ fromType: "deals", fromId: deal.id, toType: "contacts", toId: contactId, typeId: 3 });
      }
      return deal;
    },
    associatedIds,
  };
}
