import { NonRetriableError } from "@zixly/core";
import { AccountingApi, type Contact, type Invoice } from "xero-node";
import { createCallRunner, type OnConnectorCall } from "./connector-call.js";
import type { VendorFailure } from "./http-error.js";

/** Xero's API origin; `XERO_API_BASE_URL` replaces it (and only it) for sandboxes. */
export const DEFAULT_XERO_API_BASE_URL = "https://api.xero.com";
/** Where the Accounting API lives under the origin, as Xero documents it. */
const ACCOUNTING_API_PATH = "/api.xro/2.0";

/** A Xero contact, flattened. Empty strings from Xero read as `null`. */
export interface XeroContact {
  id: string;
  name: string | null;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
}

/** A Xero invoice, flattened to what workflows use. */
export interface XeroInvoice {
  id: string;
  number: string | null;
  status: "DRAFT" | "SUBMITTED" | "AUTHORISED" | "PAID" | "VOIDED" | "DELETED" | (string & {});
  total: number;
  amountPaid: number;
  amountDue: number;
  currency: string | null;
  reference: string | null;
  /** The day the invoice was fully paid, `YYYY-MM-DD` (UTC), or `null` while unpaid. */
  fullyPaidOn: string | null;
  contact: XeroContact;
}

/** Typed operations on one Xero organisation (tenant), over the official `xero-node` SDK. */
export interface XeroConnector {
  /**
   * `GET /api.xro/2.0/Invoices/{invoiceId}`.
   * @throws NonRetriableError for an unknown invoice (404) or rejected credentials (401/403)
   * @throws RetryAfterError when Xero rate-limits (429)
   */
  getInvoice(invoiceId: string): Promise<XeroInvoice>;
  /** `GET /api.xro/2.0/Contacts/{contactId}`; errors as for {@link XeroConnector.getInvoice}. */
  getContact(contactId: string): Promise<XeroContact>;
}

export interface XeroConnectorOptions {
  /** OAuth 2.0 access token (the vault refreshes it; this connector never does). */
  accessToken: string;
  /** The organisation to act on (`xero-tenant-id`). */
  xeroTenantId: string;
  /**
   * Stands for `https://api.xero.com` (`XERO_API_BASE_URL`): only the origin changes, the
   * connector appends `/api.xro/2.0/...` as Xero documents it.
   */
  apiBaseUrl?: string;
  /** Reports every operation (latency, outcome) for metrics. */
  onCall?: OnConnectorCall;
  /** Per-call timeout (the SDK has none). Default 30 s; a timeout is a retryable error. */
  timeoutMs?: number;
}

function accountingBasePath(apiBaseUrl: string): string {
  const base = new URL(apiBaseUrl);
  const origin = `${base.origin}${base.pathname.replace(/\/+$/, "")}`;
  if (origin.toLowerCase().endsWith(ACCOUNTING_API_PATH)) {
    throw new Error(
      `createXeroConnector: apiBaseUrl stands for ${DEFAULT_XERO_API_BASE_URL} (origin only); drop "${ACCOUNTING_API_PATH}" from it`,
    );
  }
  return `${origin}${ACCOUNTING_API_PATH}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | null {
  if (typeof value === "string") return value === "" ? null : value;
  if (typeof value === "number") return String(value);
  return null;
}

function amount(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

const MS_DATE = /^\/Date\((-?\d+)/;

/**
 * `YYYY-MM-DD` from what the SDK hands back for a date. Its models type `FullyPaidOnDate` as
 * `string`, but its deserialiser turns Xero's `/Date(ms+0000)/` strings into `Date` objects at
 * run time; ISO strings stay strings.
 */
function isoDay(value: unknown): string | null {
  let date: Date | undefined;
  if (value instanceof Date) date = value;
  else if (typeof value === "string") {
    const ms = MS_DATE.exec(value);
    if (ms) date = new Date(Number(ms[1]));
    else if (/^\d{4}-\d{2}-\d{2}/.test(value)) return value.slice(0, 10);
  }
  return date && !Number.isNaN(date.getTime()) ? date.toISOString().slice(0, 10) : null;
}

function mapContact(contact: Contact | undefined, fallbackId = ""): XeroContact {
  return {
    id: text(contact?.contactID) ?? fallbackId,
    name: text(contact?.name),
    email: text(contact?.emailAddress),
    firstName: text(contact?.firstName),
    lastName: text(contact?.lastName),
  };
}

function mapInvoice(invoice: Invoice, requestedId: string): XeroInvoice {
  // The SDK's .d.ts declares Status and CurrencyCode as numeric enums; at run time they are
  // Xero's strings. Read them as unknown.
  const status: unknown = invoice.status;
  const currency: unknown = invoice.currencyCode;
  return {
    id: text(invoice.invoiceID) ?? requestedId,
    number: text(invoice.invoiceNumber),
    status: text(status) ?? "UNKNOWN",
    total: amount(invoice.total),
    amountPaid: amount(invoice.amountPaid),
    amountDue: amount(invoice.amountDue),
    currency: text(currency),
    reference: text(invoice.reference),
    fullyPaidOn: isoDay(invoice.fullyPaidOnDate),
    contact: mapContact(invoice.contact),
  };
}

/** Response headers as a plain lower-case map (the SDK serialises axios' headers object). */
function headerMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === "string" || typeof v === "number") out[name.toLowerCase()] = String(v);
    else if (Array.isArray(v)) out[name.toLowerCase()] = v.map(String).join(", ");
  }
  return out;
}

/** Xero's words from an error body: problem JSON, ValidationException, OAuth error or text. */
function xeroDetail(body: unknown): string | undefined {
  if (typeof body === "string") return body;
  if (!isRecord(body)) return undefined;
  if (typeof body.Detail === "string")
    return typeof body.Title === "string" ? `${body.Title}: ${body.Detail}` : body.Detail;
  if (typeof body.Message === "string") {
    const validation: string[] = [];
    for (const element of Array.isArray(body.Elements) ? body.Elements : []) {
      if (!isRecord(element) || !Array.isArray(element.ValidationErrors)) continue;
      for (const v of element.ValidationErrors)
        if (isRecord(v) && typeof v.Message === "string") validation.push(v.Message);
    }
    return validation.length > 0 ? `${body.Message}: ${validation.join("; ")}` : body.Message;
  }
  if (typeof body.error === "string") {
    return typeof body.error_description === "string"
      ? `${body.error}: ${body.error_description}`
      : body.error;
  }
  return JSON.stringify(body);
}

/**
 * What xero-node rejects with: for HTTP and network errors alike, a JSON *string* of
 * `{ response: { statusCode, body, headers, request }, body }` (statusCode 0 and the axios
 * message as body when no response came back); for argument checks, an `Error`.
 */
function describeXeroError(operation: string, err: unknown): VendorFailure {
  const failure: VendorFailure = { connector: "xero", operation };
  let parsed: unknown = err;
  if (typeof err === "string") {
    try {
      parsed = JSON.parse(err) as unknown;
    } catch {
      failure.detail = err;
      return failure;
    }
  }
  if (err instanceof Error) {
    failure.detail = err.message;
    return failure;
  }
  if (!isRecord(parsed)) return failure;
  const response = isRecord(parsed.response) ? parsed.response : {};
  const rawStatus = response.statusCode ?? response.status;
  const status = typeof rawStatus === "number" && rawStatus > 0 ? rawStatus : undefined;
  const body = response.body ?? parsed.body ?? response.data;
  const headers = headerMap(response.headers);
  if (status !== undefined) failure.httpStatus = status;
  failure.headers = headers;
  let detail = xeroDetail(body);
  if (status === 429) {
    const problem = headers["x-rate-limit-problem"];
    const limit = problem ? `rate limit exceeded (${problem})` : "rate limit exceeded";
    detail = detail ? `${limit}: ${detail}` : limit;
  }
  if (detail !== undefined) failure.detail = detail;
  return failure;
}

/**
 * A {@link XeroConnector} over xero-node's `AccountingApi`, given a ready access token. It does
 * not call `XeroClient.initialize()` (which fetches Xero's OpenID discovery document over the
 * network) and never refreshes tokens. Failures map as in {@link toConnectorError}.
 *
 * @example
 * ```ts
 * const xero = createXeroConnector({ accessToken, xeroTenantId, apiBaseUrl: env.XERO_API_BASE_URL });
 * const invoice = await xero.getInvoice("243216c5-369e-4056-ac67-05388f86dc81");
 * if (invoice.status === "PAID") console.log(invoice.contact.email, invoice.fullyPaidOn);
 * ```
 */
export function createXeroConnector(options: XeroConnectorOptions): XeroConnector {
  if (!options.accessToken) throw new NonRetriableError("createXeroConnector: accessToken is required");
  if (!options.xeroTenantId) throw new NonRetriableError("createXeroConnector: xeroTenantId is required");
  const api = new AccountingApi(accountingBasePath(options.apiBaseUrl ?? DEFAULT_XERO_API_BASE_URL));
  api.accessToken = options.accessToken;
  const tenantId = options.xeroTenantId;
  const runner = createCallRunner({
    connector: "xero",
    secrets: [options.accessToken],
    onCall: options.onCall,
    timeoutMs: options.timeoutMs,
  });

  const requireId = (operation: string, name: string, value: string) => {
    // An empty id would turn GET /Invoices/{id} into GET /Invoices: a list, not a lookup.
    if (typeof value !== "string" || value.trim() === "") {
      throw new NonRetriableError(`xero ${operation}: ${name} is required`);
    }
  };

  return {
    async getInvoice(invoiceId) {
      requireId("getInvoice", "invoiceId", invoiceId);
      return runner.vendor(
        "getInvoice",
        async () => {
          const { response, body } = await api.getInvoice(tenantId, invoiceId);
          const invoice = body.invoices?.[0];
          if (!invoice) {
            return runner.fail({
              connector: "xero",
              operation: "getInvoice",
              httpStatus: response.status,
              detail: "the response held no invoice",
            });
          }
          return { value: mapInvoice(invoice, invoiceId), httpStatus: response.status };
        },
        (err) => describeXeroError("getInvoice", err),
      );
    },

    async getContact(contactId) {
      requireId("getContact", "contactId", contactId);
      return runner.vendor(
        "getContact",
        async () => {
          const { response, body } = await api.getContact(tenantId, contactId);
          const contact = body.contacts?.[0];
          if (!contact) {
            return runner.fail({
              connector: "xero",
              operation: "getContact",
              httpStatus: response.status,
              detail: "the response held no contact",
            });
          }
          return { value: mapContact(contact, contactId), httpStatus: response.status };
        },
        (err) => describeXeroError("getContact", err),
      );
    },
  };
}
