import { randomBytes } from "node:crypto";
import { STATUS_CODES } from "node:http";
import type { Request, Response } from "express";
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
import {
  buildContact,
  buildInvoice,
  invoiceFromRequest,
  parseXeroWhere,
  type XeroContactSeed,
  type XeroInvoiceSeed,
  type XeroWireContact,
  type XeroWireInvoice,
} from "./xero-model.js";

/** Fixed defaults, so a demo run and its `.env` can name them. */
export const XERO_SANDBOX_DEFAULTS = {
  accessToken: "xero-sandbox-access-token",
  refreshToken: "xero-sandbox-refresh-token",
  tenantId: "6f1c2c4e-2b7d-4f3a-9a55-7e0d8c1b2a10",
  tenantName: "Sandbox Company (AU)",
  clientId: "xero-sandbox-client-id",
  clientSecret: "xero-sandbox-client-secret",
  scope: "openid profile email accounting.transactions accounting.contacts offline_access",
} as const;

/** An organisation the sandbox's tokens are connected to. */
export interface XeroSandboxTenant {
  tenantId: string;
  tenantName: string;
}

export interface XeroSandboxOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Access tokens the API accepts, never expiring. Default `[XERO_SANDBOX_DEFAULTS.accessToken]`. */
  validTokens?: string[];
  /** Refresh tokens `/connect/token` accepts (each once). Default `[XERO_SANDBOX_DEFAULTS.refreshToken]`. */
  refreshTokens?: string[];
  /** Connected organisations. Default one, `XERO_SANDBOX_DEFAULTS.tenantId`. */
  tenants?: XeroSandboxTenant[];
  /** OAuth client the token endpoint authenticates. Defaults in {@link XERO_SANDBOX_DEFAULTS}. */
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of access tokens the token endpoint issues. Default 1800 s, as Xero's. */
  accessTokenTtlSeconds?: number;
  /** `ProviderName` in response envelopes. */
  providerName?: string;
  /** Clock, for expiry tests. Default `Date.now`. */
  now?: () => number;
}

/** The sandbox's data; tests may read and change it directly. */
export interface XeroSandboxState {
  /** Keyed by lower-case `InvoiceID`. */
  invoices: Map<string, XeroWireInvoice>;
  /** Keyed by lower-case `ContactID`. */
  contacts: Map<string, XeroWireContact>;
  tenants: XeroSandboxTenant[];
  /** Access token → expiry (ms since epoch; `Infinity` for tokens given in options). */
  accessTokens: Map<string, number>;
  /** Refresh token → when it was used (`null` while unused). Refresh tokens are single-use. */
  refreshTokens: Map<string, { scope: string; usedAt: number | null }>;
  /** `<METHOD> <path> <Idempotency-Key>` → the first answer, replayed for a repeat. */
  idempotentResponses: Map<string, { status: number; body: unknown }>;
  /** Authorization code → the redirect URI it was issued for; codes are single-use. */
  authorizationCodes: Map<string, { redirectUri: string; usedAt: number | null }>;
}

/** A local stand-in for Xero's Accounting API and identity server (not Xero). */
export interface XeroSandbox extends RunningServer, SandboxControls {
  readonly state: XeroSandboxState;
  /** Store an invoice (its contact too) and return it as the API will serve it. */
  addInvoice(seed?: XeroInvoiceSeed): XeroWireInvoice;
  /** Store a contact and return it as the API will serve it. */
  addContact(seed?: XeroContactSeed): XeroWireContact;
  /**
   * What Xero's consent screen does when the user approves: issue a one-time authorization
   * code for `redirectUri` (the test then calls the app's callback with it).
   */
  issueAuthorizationCode(redirectUri: string): string;
}

/** `Retry-After` Xero sends with a 429 unless a failure names its own. */
const DEFAULT_RETRY_AFTER_SECONDS = "60";

function problem(status: number, detail: string): Record<string, unknown> {
  return {
    Type: null,
    Title: STATUS_CODES[status] ?? "Error",
    Status: status,
    Detail: detail,
    Instance: newId(),
    Extensions: {},
  };
}

const NOT_FOUND_TEXT = "The resource you're looking for cannot be found";

/** What Xero sends for a status when an injected failure names only the status. */
const xeroFailureDefaults: FailureDefaults = (status) => {
  if (status === 429) {
    return {
      headers: { "Retry-After": DEFAULT_RETRY_AFTER_SECONDS, "X-Rate-Limit-Problem": "minute" },
      body: undefined,
    };
  }
  if (status === 404) return { body: NOT_FOUND_TEXT };
  if (status === 400) {
    return {
      body: {
        ErrorNumber: 10,
        Type: "ValidationException",
        Message: "A validation exception occurred",
        Elements: [],
      },
    };
  }
  if (status === 401 || status === 403) return { body: problem(status, "AuthenticationUnsuccessful") };
  if (status >= 500) {
    return {
      body: problem(
        status,
        "An error occurred in Xero. Check the API Status page http://status.developer.xero.com for current service status.",
      ),
    };
  }
  return { body: problem(status, STATUS_CODES[status] ?? "Error") };
};

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** `MM/dd/yyyy HH:mm:ss` (UTC), as Xero words token expiry. */
function expiryText(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`;
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

function basicCredentials(req: Request): { id: string; secret: string } | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Basic\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return undefined;
  return {
    id: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

function token(prefix: string): string {
  return `${prefix}${randomBytes(24).toString("base64url")}`;
}

/**
 * Start a local stand-in for Xero: `GET /api.xro/2.0/Invoices/{id}`, `GET /api.xro/2.0/Contacts/{id}`,
 * `GET /connections` and `POST /connect/token` (refresh-token grant, single-use refresh tokens),
 * answering in Xero's documented JSON shapes and errors. Point `XERO_API_BASE_URL` and
 * `XERO_IDENTITY_URL` at {@link XeroSandbox.url}.
 *
 * @example
 * ```ts
 * const xero = await createXeroSandbox();
 * const invoice = xero.addInvoice({ Status: "PAID", Contact: { EmailAddress: "ana@example.com" } });
 * // GET `${xero.url}/api.xro/2.0/Invoices/${invoice.InvoiceID}` with
 * // Authorization: Bearer xero-sandbox-access-token, xero-tenant-id: XERO_SANDBOX_DEFAULTS.tenantId
 * await xero.close();
 * ```
 */
export async function createXeroSandbox(options: XeroSandboxOptions = {}): Promise<XeroSandbox> {
  const now = options.now ?? Date.now;
  const ttlSeconds = options.accessTokenTtlSeconds ?? 1800;
  const clientId = options.clientId ?? XERO_SANDBOX_DEFAULTS.clientId;
  const clientSecret = options.clientSecret ?? XERO_SANDBOX_DEFAULTS.clientSecret;
  const providerName = options.providerName ?? "Zixly Xero Sandbox";
  const state: XeroSandboxState = {
    invoices: new Map(),
    contacts: new Map(),
    tenants: options.tenants ?? [
      { tenantId: XERO_SANDBOX_DEFAULTS.tenantId, tenantName: XERO_SANDBOX_DEFAULTS.tenantName },
    ],
    accessTokens: new Map(
      (options.validTokens ?? [XERO_SANDBOX_DEFAULTS.accessToken]).map((t) => [t, Number.POSITIVE_INFINITY]),
    ),
    refreshTokens: new Map(
      (options.refreshTokens ?? [XERO_SANDBOX_DEFAULTS.refreshToken]).map((t) => [
        t,
        { scope: XERO_SANDBOX_DEFAULTS.scope, usedAt: null },
      ]),
    ),
    idempotentResponses: new Map(),
    authorizationCodes: new Map(),
  };
  let invoiceSequence = 0;
  const connectionCreated = new Date(now()).toISOString();

  const { app, controls } = createSandboxApp({
    defaults: xeroFailureDefaults,
    onBadJson: (res) =>
      sendBody(res, 400, {
        ErrorNumber: 14,
        Type: "PostDataInvalidException",
        Message: "JSON for post data was invalid",
      }),
  });

  const envelope = (key: "Invoices" | "Contacts", items: unknown[]) => ({
    Id: newId(),
    Status: "OK",
    ProviderName: providerName,
    DateTimeUTC: `/Date(${now()})/`,
    [key]: items,
  });

  /** Bearer check shared by the API and `/connections`; answers 401 itself and returns false. */
  const authorised = (req: Request, res: Response): boolean => {
    const presented = bearer(req);
    const expiry = presented === undefined ? undefined : state.accessTokens.get(presented);
    if (expiry === undefined) {
      sendBody(res, 401, problem(401, "AuthenticationUnsuccessful"));
      return false;
    }
    if (expiry <= now()) {
      sendBody(res, 401, problem(401, `TokenExpired: token expired at ${expiryText(expiry)}`));
      return false;
    }
    return true;
  };

  const tenantOk = (req: Request, res: Response): boolean => {
    const tenantId = req.headers["xero-tenant-id"];
    const id = Array.isArray(tenantId) ? tenantId[0] : tenantId;
    if (!id || !state.tenants.some((t) => t.tenantId.toLowerCase() === id.toLowerCase())) {
      sendBody(res, 403, problem(403, "AuthenticationUnsuccessful"));
      return false;
    }
    return true;
  };

  app.post("/connect/token", (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    const form = (bodyOf(res) ?? {}) as Record<string, unknown>;
    const basic = basicCredentials(req);
    const presentedId = basic?.id ?? form.client_id;
    const presentedSecret = basic?.secret ?? form.client_secret;
    if (presentedId !== clientId || presentedSecret !== clientSecret) {
      sendBody(res, 400, { error: "invalid_client" });
      return;
    }
    let scope: string;
    if (form.grant_type === "authorization_code") {
      const code = state.authorizationCodes.get(typeof form.code === "string" ? form.code : "");
      if (!code || code.usedAt !== null || code.redirectUri !== form.redirect_uri) {
        sendBody(res, 400, { error: "invalid_grant" });
        return;
      }
      code.usedAt = now();
      scope = XERO_SANDBOX_DEFAULTS.scope;
    } else if (form.grant_type === "refresh_token") {
      const presented = typeof form.refresh_token === "string" ? form.refresh_token : "";
      const grant = state.refreshTokens.get(presented);
      if (!grant || grant.usedAt !== null) {
        sendBody(res, 400, { error: "invalid_grant" });
        return;
      }
      grant.usedAt = now();
      scope = grant.scope;
    } else {
      sendBody(res, 400, { error: "unsupported_grant_type" });
      return;
    }
    const accessToken = token("xero-sbx-at-");
    const refreshToken = token("xero-sbx-rt-");
    state.accessTokens.set(accessToken, now() + ttlSeconds * 1000);
    state.refreshTokens.set(refreshToken, { scope, usedAt: null });
    sendBody(res, 200, {
      access_token: accessToken,
      expires_in: ttlSeconds,
      token_type: "Bearer",
      refresh_token: refreshToken,
      scope,
    });
  });

  app.get("/connections", (req, res) => {
    if (!authorised(req, res)) return;
    sendBody(
      res,
      200,
      state.tenants.map((t) => ({
        id: newId(),
        authEventId: newId(),
        tenantId: t.tenantId,
        tenantType: "ORGANISATION",
        tenantName: t.tenantName,
        createdDateUtc: connectionCreated,
        updatedDateUtc: connectionCreated,
      })),
    );
  });

  app.get("/api.xro/2.0/Invoices/:id", (req, res) => {
    if (!authorised(req, res) || !tenantOk(req, res)) return;
    const key = String(req.params.id).toLowerCase();
    // Xero accepts an InvoiceNumber in place of the InvoiceID.
    const invoice =
      state.invoices.get(key) ??
      [...state.invoices.values()].find((i) => i.InvoiceNumber.toLowerCase() === key);
    if (!invoice) {
      sendBody(res, 404, NOT_FOUND_TEXT);
      return;
    }
    sendBody(res, 200, envelope("Invoices", [invoice]));
  });

  app.get("/api.xro/2.0/Contacts/:id", (req, res) => {
    if (!authorised(req, res) || !tenantOk(req, res)) return;
    const contact = state.contacts.get(String(req.params.id).toLowerCase());
    if (!contact) {
      sendBody(res, 404, NOT_FOUND_TEXT);
      return;
    }
    sendBody(res, 200, envelope("Contacts", [contact]));
  });

  /** Xero's answer to a `where` it cannot read. */
  const badWhere = (res: Response, where: string) =>
    sendBody(res, 400, {
      ErrorNumber: 16,
      Type: "QueryParseException",
      Message: `The where clause could not be parsed by this sandbox: ${where}`,
    });

  /** A `where` query filter, or `true` when absent; answers 400 itself and returns undefined. */
  const whereFilter = (req: Request, res: Response): ((record: object) => boolean) | undefined => {
    const where = typeof req.query.where === "string" ? req.query.where : undefined;
    if (where === undefined || where.trim() === "") return () => true;
    const filter = parseXeroWhere(where);
    if (!filter) badWhere(res, where);
    return filter;
  };

  const validation = (elements: { element: unknown; errors: string[] }[]) => ({
    ErrorNumber: 10,
    Type: "ValidationException",
    Message: "A validation exception occurred",
    Elements: elements.map(({ element, errors }) => ({
      ...(typeof element === "object" && element !== null ? element : {}),
      ValidationErrors: errors.map((Message) => ({ Message })),
    })),
  });

  /**
   * Xero's `Idempotency-Key`: a write repeated with the same key (same method and path) gets
   * the first answer again and changes nothing.
   */
  const idempotent = (req: Request, res: Response, write: () => { status: number; body: unknown }) => {
    const header = req.headers["idempotency-key"];
    const key = Array.isArray(header) ? header[0] : header;
    const slot = key ? `${req.method} ${req.path.toLowerCase()} ${key}` : undefined;
    const replay = slot ? state.idempotentResponses.get(slot) : undefined;
    const answer = replay ?? write();
    if (slot && !replay) state.idempotentResponses.set(slot, answer);
    sendBody(res, answer.status, answer.body);
  };

  const elementsOf = (res: Response, key: "Contacts" | "Invoices"): Record<string, unknown>[] | undefined => {
    const body = bodyOf(res) as Record<string, unknown> | undefined;
    const list = body?.[key];
    if (!Array.isArray(list)) {
      sendBody(res, 400, validation([{ element: body ?? {}, errors: [`${key} must be given as an array`] }]));
      return undefined;
    }
    return list.filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null);
  };

  const activeByName = (name: string, exceptId?: string) =>
    [...state.contacts.values()].find(
      (c) =>
        c.ContactStatus === "ACTIVE" &&
        c.ContactID !== exceptId &&
        c.Name.trim().toLowerCase() === name.trim().toLowerCase(),
    );

  app.get("/api.xro/2.0/Contacts", (req, res) => {
    if (!authorised(req, res) || !tenantOk(req, res)) return;
    const filter = whereFilter(req, res);
    if (!filter) return;
    const term = typeof req.query.searchTerm === "string" ? req.query.searchTerm.toLowerCase() : "";
    const includeArchived = req.query.includeArchived === "true";
    const contacts = [...state.contacts.values()]
      .filter((c) => includeArchived || c.ContactStatus !== "ARCHIVED")
      .filter(filter)
      .filter(
        (c) =>
          term === "" ||
          [c.Name, c.FirstName, c.LastName, c.EmailAddress].some((v) => v?.toLowerCase().includes(term)),
      );
    sendBody(res, 200, envelope("Contacts", contacts));
  });

  /** `PUT` creates; `POST` creates or updates (by `ContactID`, else by an active contact's `Name`). */
  const writeContacts = (req: Request, res: Response) => {
    if (!authorised(req, res) || !tenantOk(req, res)) return;
    const elements = elementsOf(res, "Contacts");
    if (!elements) return;
    idempotent(req, res, () => {
      const problems: { element: unknown; errors: string[] }[] = [];
      const planned: { element: Record<string, unknown>; existing?: XeroWireContact }[] = [];
      for (const element of elements) {
        const id = typeof element.ContactID === "string" ? element.ContactID.toLowerCase() : undefined;
        const name = typeof element.Name === "string" ? element.Name : "";
        const byId = id ? state.contacts.get(id) : undefined;
        if (id && !byId) {
          problems.push({ element, errors: [`The ContactID ${element.ContactID as string} is not valid`] });
          continue;
        }
        const byName = name ? activeByName(name, byId?.ContactID) : undefined;
        if (!byId && name.trim() === "") {
          problems.push({ element, errors: ["The contact name must be specified"] });
        } else if (byName && (req.method === "PUT" || byId)) {
          problems.push({
            element,
            errors: [
              `The contact name ${name} is already assigned to another contact. The contact name must be unique across all active contacts.`,
            ],
          });
        } else {
          const existing = byId ?? (req.method === "POST" ? byName : undefined);
          planned.push(existing ? { element, existing } : { element });
        }
      }
      if (problems.length > 0) return { status: 400, body: validation(problems) };
      const written = planned.map(({ element, existing }) => {
        const seed: XeroContactSeed = { ...existing };
        for (const key of ["Name", "FirstName", "LastName", "EmailAddress"] as const) {
          if (typeof element[key] === "string") seed[key] = element[key] as string;
        }
        return addContact(seed);
      });
      return { status: 200, body: envelope("Contacts", written) };
    });
  };
  app.put("/api.xro/2.0/Contacts", writeContacts);
  app.post("/api.xro/2.0/Contacts", writeContacts);

  app.get("/api.xro/2.0/Invoices", (req, res) => {
    if (!authorised(req, res) || !tenantOk(req, res)) return;
    const filter = whereFilter(req, res);
    if (!filter) return;
    sendBody(res, 200, envelope("Invoices", [...state.invoices.values()].filter(filter)));
  });

  /** `PUT` creates; `POST` creates, or updates `Status`/`Reference`/`DueDate` of a given `InvoiceID`. */
  const writeInvoices = (req: Request, res: Response) => {
    if (!authorised(req, res) || !tenantOk(req, res)) return;
    const elements = elementsOf(res, "Invoices");
    if (!elements) return;
    idempotent(req, res, () => {
      const problems: { element: unknown; errors: string[] }[] = [];
      const written: XeroWireInvoice[] = [];
      for (const element of elements) {
        const id = typeof element.InvoiceID === "string" ? element.InvoiceID.toLowerCase() : undefined;
        const existing = id ? state.invoices.get(id) : undefined;
        if (id && (req.method === "PUT" || !existing)) {
          problems.push({ element, errors: [`The InvoiceID ${element.InvoiceID as string} is not valid`] });
          continue;
        }
        if (existing) {
          const updated: XeroWireInvoice = { ...existing, UpdatedDateUTC: `/Date(${now()}+0000)/` };
          if (typeof element.Status === "string")
            updated.Status = element.Status as XeroWireInvoice["Status"];
          if (typeof element.Reference === "string") updated.Reference = element.Reference;
          written.push(updated);
          continue;
        }
        const contactRef = element.Contact as { ContactID?: unknown } | undefined;
        const contactId = typeof contactRef?.ContactID === "string" ? contactRef.ContactID.toLowerCase() : "";
        const built = invoiceFromRequest(
          element,
          state.contacts.get(contactId),
          invoiceSequence + 1,
          new Date(now()),
        );
        if (!built.ok) {
          problems.push({ element, errors: built.errors });
          continue;
        }
        invoiceSequence += 1;
        written.push(built.invoice);
      }
      if (problems.length > 0) return { status: 400, body: validation(problems) };
      for (const invoice of written) state.invoices.set(invoice.InvoiceID.toLowerCase(), invoice);
      return { status: 200, body: envelope("Invoices", written) };
    });
  };
  app.put("/api.xro/2.0/Invoices", writeInvoices);
  app.post("/api.xro/2.0/Invoices", writeInvoices);

  app.use((_req: Request, res: Response) => sendBody(res, 404, NOT_FOUND_TEXT));

  const server = await listen(app, options);

  function addContact(seed: XeroContactSeed = {}): XeroWireContact {
    const existing = seed.ContactID ? state.contacts.get(seed.ContactID.toLowerCase()) : undefined;
    const contact = buildContact({ ...existing, ...seed }, new Date(now()));
    state.contacts.set(contact.ContactID.toLowerCase(), contact);
    return contact;
  }

  return {
    ...server,
    ...controls,
    state,
    addContact,
    issueAuthorizationCode(redirectUri) {
      const code = token("xero-sbx-code-");
      state.authorizationCodes.set(code, { redirectUri, usedAt: null });
      return code;
    },
    addInvoice(seed = {}) {
      invoiceSequence += 1;
      const contact = addContact(seed.Contact ?? {});
      const invoice = buildInvoice(seed, contact, invoiceSequence, new Date(now()));
      state.invoices.set(invoice.InvoiceID.toLowerCase(), invoice);
      return invoice;
    },
  };
}
