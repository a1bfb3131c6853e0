import { Client } from "@hubspot/api-client";
import { NonRetriableError } from "@zixly/core";
import { createCallRunner, type OnConnectorCall, type SdkResult, vendorFailureOf } from "./connector-call.js";
import type { VendorFailure } from "./http-error.js";

/** HubSpot's API origin; `HUBSPOT_API_BASE_URL` replaces it (and only it) for sandboxes. */
export const DEFAULT_HUBSPOT_API_BASE_URL = "https://api.hubapi.com";

/** A HubSpot contact: its id, its email, and the properties the call returned. */
export interface HubspotContact {
  id: string;
  email: string | null;
  properties: Record<string, string | null>;
}

/** A HubSpot deal: its id and the properties the call returned. */
export interface HubspotDeal {
  id: string;
  properties: Record<string, string | null>;
}

/** A note (engagement) as created. */
export interface HubspotNote {
  id: string;
  body: string;
  /** ISO time the note is filed under on the timeline. */
  timestamp: string;
}

/** What {@link HubspotConnector.addNote} attaches a note to. */
export interface HubspotNoteInput {
  /** HTML or plain text (`hs_note_body`). */
  body: string;
  /** When the note is filed on the timeline (`hs_timestamp`); default now. */
  timestamp?: string;
  contactIds?: string[];
  dealIds?: string[];
}

/** Typed operations on HubSpot CRM contacts, deals and notes, over the official `@hubspot/api-client` SDK. */
export interface HubspotConnector {
  /** `POST /crm/v3/objects/contacts/search` with `email EQ <email>`; `null` when none matches. */
  findContactByEmail(email: string): Promise<HubspotContact | null>;
  /**
   * `POST /crm/v3/objects/contacts`.
   * @throws NonRetriableError on 409 CONFLICT (a contact with that email exists) or 400
   */
  createContact(properties: Record<string, string>): Promise<HubspotContact>;
  /** `PATCH /crm/v3/objects/contacts/{id}`. @throws NonRetriableError on 404 */
  updateContact(id: string, properties: Record<string, string>): Promise<HubspotContact>;
  /**
   * Find by email; update the match with `properties` (no PATCH when there are none), or create
   * the contact. A 409 from a create racing another writer resolves to an update of the
   * existing contact.
   */
  upsertContactByEmail(input: {
    email: string;
    properties?: Record<string, string>;
  }): Promise<HubspotContact & { created: boolean }>;
  /**
   * The ids of the deals associated with a contact: `GET /crm/v3/objects/contacts/{id}?associations=deals`.
   * @throws NonRetriableError on 404
   */
  getContactDealIds(contactId: string): Promise<string[]>;
  /**
   * `GET /crm/v3/objects/deals/{id}?properties=…&associations=contacts`: the deal (with
   * {@link DEFAULT_DEAL_PROPERTIES} plus `properties`) and the ids of its contacts.
   * @throws NonRetriableError on 404
   */
  getDeal(id: string, options?: { properties?: string[] }): Promise<HubspotDeal & { contactIds: string[] }>;
  /** `PATCH /crm/v3/objects/deals/{id}`. @throws NonRetriableError on 404 */
  updateDeal(id: string, properties: Record<string, string>): Promise<HubspotDeal>;
  /**
   * `POST /crm/v3/objects/deals/search` with `<propertyName> EQ <value>`: the first match, or
   * `null`. HubSpot's search index lags writes by a few seconds.
   */
  findDealByProperty(
    propertyName: string,
    value: string,
    options?: { properties?: string[] },
  ): Promise<HubspotDeal | null>;
  /**
   * `POST /crm/v3/objects/notes` with `hs_note_body`, `hs_timestamp` and associations to the
   * contacts (type 202) and deals (type 214), in one request.
   */
  addNote(note: HubspotNoteInput): Promise<HubspotNote>;
}

/** Deal properties every deal read returns, on top of those a caller names. */
export const DEFAULT_DEAL_PROPERTIES = [
  "dealname",
  "dealstage",
  "pipeline",
  "amount",
  "closedate",
  "createdate",
] as const;

/** HubSpot-defined association type ids (`associationCategory: HUBSPOT_DEFINED`). */
export const HUBSPOT_ASSOCIATION_TYPES = { noteToContact: 202, noteToDeal: 214 } as const;

export interface HubspotConnectorOptions {
  /** Private-app or OAuth access token. */
  accessToken: string;
  /**
   * Stands for `https://api.hubapi.com` (`HUBSPOT_API_BASE_URL`): only the origin changes, the
   * SDK appends `/crm/v3/...` as HubSpot documents it.
   */
  apiBaseUrl?: string;
  /** Reports every operation (latency, outcome) for metrics. */
  onCall?: OnConnectorCall;
  /** Per-call timeout (the SDK has none). Default 30 s; a timeout is a retryable error. */
  timeoutMs?: number;
}

/** Properties read back by a search, on top of any the caller writes. */
const SEARCH_PROPERTIES = ["email", "firstname", "lastname"];

type ContactsApi = Client["crm"]["contacts"];
type SearchRequest = Parameters<ContactsApi["searchApi"]["doSearch"]>[0];
type FilterOperator = NonNullable<SearchRequest["filterGroups"]>[number]["filters"][number]["operator"];
type CallOptions = NonNullable<Parameters<ContactsApi["searchApi"]["doSearchWithHttpInfo"]>[1]>;
type PromiseMiddleware = NonNullable<CallOptions["middleware"]>[number];
type ResponseContext = Parameters<PromiseMiddleware["post"]>[0];
type SdkContact = Awaited<ReturnType<ContactsApi["basicApi"]["create"]>>;
type DealsApi = Client["crm"]["deals"];
type DealSearchRequest = Parameters<DealsApi["searchApi"]["doSearch"]>[0];
type DealFilterOperator = NonNullable<
  DealSearchRequest["filterGroups"]
>[number]["filters"][number]["operator"];
type NotesApi = Client["crm"]["objects"]["notes"];
type NoteInput = Parameters<NotesApi["basicApi"]["create"]>[0];
type NoteAssociation = NonNullable<NoteInput["associations"]>[number];
type AssociationCategory = NoteAssociation["types"][number]["associationCategory"];

/** Association results (`{ results: [{ id, type }] }`) under a key of `associations`, ids deduplicated. */
function associatedIds(associations: unknown, key: string): string[] {
  if (!isRecord(associations)) return [];
  const group = associations[key];
  const results = isRecord(group) && Array.isArray(group.results) ? group.results : [];
  const ids = results
    .map((r) => (isRecord(r) && (typeof r.id === "string" || typeof r.id === "number") ? String(r.id) : ""))
    .filter((id) => id !== "");
  return [...new Set(ids)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mapContact(contact: SdkContact): HubspotContact {
  const properties: Record<string, string | null> = { ...contact.properties };
  return { id: String(contact.id), email: properties.email ?? null, properties };
}

function originOf(apiBaseUrl: string): string {
  const url = new URL(apiBaseUrl);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** HubSpot's words from an error body (`{ status, message, category, correlationId }`) or text. */
function hubspotDetail(body: unknown): string | undefined {
  if (typeof body === "string") return body;
  if (!isRecord(body)) return undefined;
  const message = typeof body.message === "string" ? body.message : undefined;
  const category = typeof body.category === "string" ? body.category : undefined;
  if (message && category) return `${message} (${category})`;
  return message ?? category ?? JSON.stringify(body);
}

/**
 * The response a call got, seen by a per-call middleware. The SDK throws `ApiException`
 * (`code`, `body`, response `headers`) for a JSON error, but a plain `Error` — without the
 * status — when an error body is not JSON (an HTML 502 from a proxy, an empty 429); this keeps
 * the status and headers for those.
 */
interface SeenResponse {
  status?: number;
  headers?: Record<string, string>;
}

function callOptions(seen: SeenResponse): CallOptions {
  const observer: PromiseMiddleware = {
    pre: (context) => Promise.resolve(context),
    post: (context: ResponseContext) => {
      seen.status = context.httpStatusCode;
      seen.headers = context.headers;
      return Promise.resolve(context);
    },
  };
  return { middleware: [observer], middlewareMergeStrategy: "append" };
}

/** HubSpot has no documented `Retry-After`; its rate-limit window header is the best hint. */
function hubspotRetryHint(headers: Record<string, string>): number | undefined {
  const interval = Number(headers["x-hubspot-ratelimit-interval-milliseconds"]);
  return Number.isFinite(interval) && interval > 0 ? interval : undefined;
}

function describeHubspotError(operation: string, err: unknown, seen: SeenResponse): VendorFailure {
  const failure: VendorFailure = { connector: "hubspot", operation };
  const apiException =
    isRecord(err) || err instanceof Error
      ? (err as { code?: unknown; body?: unknown; headers?: unknown })
      : undefined;
  if (apiException && typeof apiException.code === "number" && apiException.code > 0) {
    failure.httpStatus = apiException.code;
    const headers: Record<string, string> = {};
    if (isRecord(apiException.headers)) {
      for (const [k, v] of Object.entries(apiException.headers)) headers[k.toLowerCase()] = String(v);
    }
    failure.headers = headers;
    const detail = hubspotDetail(apiException.body);
    if (detail !== undefined) failure.detail = detail;
  } else if (seen.status !== undefined) {
    // A response arrived but the SDK could not read its body.
    failure.httpStatus = seen.status;
    failure.headers = seen.headers ?? {};
    failure.detail = `unreadable response body (${err instanceof Error ? err.message : String(err)})`;
  } else {
    // node-fetch's FetchError (connection refused, reset, DNS): no response.
    failure.detail = err instanceof Error ? err.message : String(err);
  }
  if (failure.httpStatus === 429 && failure.headers) {
    const hint = hubspotRetryHint(failure.headers);
    if (hint !== undefined) failure.retryAfterMs = hint;
  }
  return failure;
}

/** The id in HubSpot's 409 message, `Contact already exists. Existing ID: 12345`. */
function existingIdFrom(failure: VendorFailure | undefined): string | undefined {
  return failure?.detail ? /Existing ID:\s*(\d+)/i.exec(failure.detail)?.[1] : undefined;
}

/**
 * A {@link HubspotConnector} over `@hubspot/api-client`, with the SDK's own retries off
 * (`numberOfApiCallRetries: 0`, no limiter): retrying is the queue's job, steered by the errors
 * this connector throws (see {@link toConnectorError}).
 *
 * @example
 * ```ts
 * const hubspot = createHubspotConnector({ accessToken, apiBaseUrl: env.HUBSPOT_API_BASE_URL });
 * const contact = await hubspot.upsertContactByEmail({ email: "ana@example.com", properties: { firstname: "Ana" } });
 * console.log(contact.id, contact.created);
 * ```
 */
export function createHubspotConnector(options: HubspotConnectorOptions): HubspotConnector {
  if (!options.accessToken) throw new NonRetriableError("createHubspotConnector: accessToken is required");
  const client = new Client({
    accessToken: options.accessToken,
    basePath: originOf(options.apiBaseUrl ?? DEFAULT_HUBSPOT_API_BASE_URL),
    numberOfApiCallRetries: 0,
  });
  // Taken right away: the SDK patches API objects with decorators (retries, limiter) from a
  // process-wide registry that every `new Client()` overwrites, when they are first created.
  const contacts = client.crm.contacts;
  const deals = client.crm.deals;
  const notes = client.crm.objects.notes;
  const runner = createCallRunner({
    connector: "hubspot",
    secrets: [options.accessToken],
    onCall: options.onCall,
    timeoutMs: options.timeoutMs,
  });

  /** One SDK call, observed, timed and error-mapped. */
  const vendor = <T>(operation: string, call: (opts: CallOptions) => Promise<SdkResult<T>>): Promise<T> => {
    const seen: SeenResponse = {};
    return runner.vendor(
      operation,
      () => call(callOptions(seen)),
      (err) => describeHubspotError(operation, err, seen),
    );
  };

  const requireEmail = (operation: string, email: string): string => {
    const trimmed = typeof email === "string" ? email.trim() : "";
    if (trimmed === "") throw new NonRetriableError(`hubspot ${operation}: email is required`);
    return trimmed;
  };

  const findContactByEmail = async (email: string, extra: string[] = []) => {
    const wanted = requireEmail("findContactByEmail", email);
    return vendor("findContactByEmail", async (opts) => {
      const request: SearchRequest = {
        filterGroups: [
          { filters: [{ propertyName: "email", operator: "EQ" as FilterOperator, value: wanted }] },
        ],
        properties: [...new Set([...SEARCH_PROPERTIES, ...extra])],
        limit: 1,
      };
      const res = await contacts.searchApi.doSearchWithHttpInfo(request, opts);
      const first = res.data.results[0];
      return { value: first ? mapContact(first) : null, httpStatus: res.httpStatusCode };
    });
  };

  const createContact = (properties: Record<string, string>) =>
    vendor("createContact", async (opts) => {
      const res = await contacts.basicApi.createWithHttpInfo({ properties }, opts);
      return { value: mapContact(res.data), httpStatus: res.httpStatusCode };
    });

  const updateContact = async (id: string, properties: Record<string, string>) => {
    if (typeof id !== "string" || id.trim() === "")
      throw new NonRetriableError("hubspot updateContact: id is required");
    return vendor("updateContact", async (opts) => {
      const res = await contacts.basicApi.updateWithHttpInfo(id, { properties }, undefined, opts);
      return { value: mapContact(res.data), httpStatus: res.httpStatusCode };
    });
  };

  /** `GET /crm/v3/objects/contacts/{id}`; internal to upsert, so the interface stays as workflows fake it. */
  const getContact = (id: string, extra: string[]) =>
    vendor("getContact", async (opts) => {
      const names = [...new Set([...SEARCH_PROPERTIES, ...extra])];
      const res = await contacts.basicApi.getByIdWithHttpInfo(
        id,
        names,
        undefined,
        undefined,
        false,
        undefined,
        opts,
      );
      return { value: mapContact(res.data), httpStatus: res.httpStatusCode };
    });

  // Each CRM object's API is generated into its own module, so its call-options type is
  // nominally distinct from the contacts one `callOptions` builds; at run time the middleware
  // sees the same request/response context everywhere. Hence the casts below.
  const requireId = (operation: string, name: string, id: string) => {
    // An empty id would change the path (GET /objects/deals/ lists deals).
    if (typeof id !== "string" || id.trim() === "")
      throw new NonRetriableError(`hubspot ${operation}: ${name} is required`);
  };
  const dealProperties = (extra: string[] = []) => [...new Set([...DEFAULT_DEAL_PROPERTIES, ...extra])];
  const mapDeal = (deal: { id: string; properties: Record<string, string | null> }): HubspotDeal => ({
    id: String(deal.id),
    properties: { ...deal.properties },
  });

  return {
    async getContactDealIds(contactId) {
      requireId("getContactDealIds", "contactId", contactId);
      return vendor("getContactDealIds", async (opts) => {
        const res = await contacts.basicApi.getByIdWithHttpInfo(
          contactId,
          ["email"],
          undefined,
          ["deals"],
          false,
          undefined,
          opts,
        );
        return { value: associatedIds(res.data.associations, "deals"), httpStatus: res.httpStatusCode };
      });
    },

    async getDeal(id, options = {}) {
      requireId("getDeal", "id", id);
      return vendor("getDeal", async (opts) => {
        const res = await deals.basicApi.getByIdWithHttpInfo(
          id,
          dealProperties(options.properties),
          undefined,
          ["contacts"],
          false,
          undefined,
          opts as Parameters<DealsApi["basicApi"]["getByIdWithHttpInfo"]>[6],
        );
        return {
          value: { ...mapDeal(res.data), contactIds: associatedIds(res.data.associations, "contacts") },
          httpStatus: res.httpStatusCode,
        };
      });
    },

    async updateDeal(id, properties) {
      requireId("updateDeal", "id", id);
      return vendor("updateDeal", async (opts) => {
        const res = await deals.basicApi.updateWithHttpInfo(
          id,
          { properties },
          undefined,
          opts as Parameters<DealsApi["basicApi"]["updateWithHttpInfo"]>[3],
        );
        return { value: mapDeal(res.data), httpStatus: res.httpStatusCode };
      });
    },

    async findDealByProperty(propertyName, value, options = {}) {
      requireId("findDealByProperty", "propertyName", propertyName);
      requireId("findDealByProperty", "value", value);
      return vendor("findDealByProperty", async (opts) => {
        const request: DealSearchRequest = {
          filterGroups: [{ filters: [{ propertyName, operator: "EQ" as DealFilterOperator, value }] }],
          properties: dealProperties([propertyName, ...(options.properties ?? [])]),
          limit: 1,
        };
        const res = await deals.searchApi.doSearchWithHttpInfo(
          request,
          opts as Parameters<DealsApi["searchApi"]["doSearchWithHttpInfo"]>[1],
        );
        const first = res.data.results[0];
        return { value: first ? mapDeal(first) : null, httpStatus: res.httpStatusCode };
      });
    },

    async addNote(note) {
      const body = typeof note.body === "string" ? note.body.trim() : "";
      if (body === "") throw new NonRetriableError("hubspot addNote: body is required");
      const timestamp = note.timestamp ?? new Date().toISOString();
      const category = "HUBSPOT_DEFINED" as AssociationCategory;
      const to = (ids: string[] | undefined, associationTypeId: number): NoteAssociation[] =>
        (ids ?? [])
          .filter((id) => typeof id === "string" && id !== "")
          .map((id) => ({ to: { id }, types: [{ associationCategory: category, associationTypeId }] }));
      const associations = [
        ...to(note.contactIds, HUBSPOT_ASSOCIATION_TYPES.noteToContact),
        ...to(note.dealIds, HUBSPOT_ASSOCIATION_TYPES.noteToDeal),
      ];
      return vendor("addNote", async (opts) => {
        const res = await notes.basicApi.createWithHttpInfo(
          { properties: { hs_note_body: body, hs_timestamp: timestamp }, associations },
          opts as Parameters<NotesApi["basicApi"]["createWithHttpInfo"]>[1],
        );
        return {
          value: {
            id: String(res.data.id),
            body: res.data.properties.hs_note_body ?? body,
            timestamp: res.data.properties.hs_timestamp ?? timestamp,
          },
          httpStatus: res.httpStatusCode,
        };
      });
    },

    findContactByEmail: (email) => findContactByEmail(email),
    createContact,
    updateContact,
    async upsertContactByEmail({ email, properties = {} }) {
      const wanted = requireEmail("upsertContactByEmail", email);
      const changes = Object.keys(properties).length > 0;
      return runner.composite("upsertContactByEmail", async () => {
        const found = await findContactByEmail(wanted, Object.keys(properties));
        if (found) {
          const contact = changes ? await updateContact(found.id, properties) : found;
          return { ...contact, created: false };
        }
        try {
          const created = await createContact({ ...properties, email: wanted });
          return { ...created, created: true };
        } catch (err) {
          const failure = vendorFailureOf(err);
          if (failure?.httpStatus !== 409) throw err;
          // Someone created it between our search and our create. HubSpot names the winner in
          // its 409 message; search is only a fallback (its index lags writes by seconds).
          const id = existingIdFrom(failure) ?? (await findContactByEmail(wanted))?.id;
          if (!id) {
            throw new Error(
              "hubspot upsertContactByEmail failed: 409 Conflict — the contact exists but is not searchable yet",
            );
          }
          const contact = changes
            ? await updateContact(id, properties)
            : await getContact(id, Object.keys(properties));
          return { ...contact, created: false };
        }
      });
    },
  };
}
