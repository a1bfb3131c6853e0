import { NonRetriableError } from "@zixly/core";
import {
  AccountingApi,
  type Contact,
  type CurrencyCode,
  Invoice,
  type LineAmountTypes,
  type LineItem,
} from "xero-node";
import { createCallRunner, type OnConnectorCall, vendorFailureOf } from "./connector-call.js";
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

/** A contact to create. Xero requires `name`, unique among the organisation's active contacts. */
export interface XeroNewContact {
  name: string;
  email?: string;
  firstName?: string;
  lastName?: string;
}

/** One line of a new invoice. */
export interface XeroNewLineItem {
  description: string;
  quantity: number;
  /** Price of one unit, tax included or not as the invoice's `lineAmountTypes` says. */
  unitAmount: number;
  /** Xero tax rate code (`OUTPUT`, `TAX001`, …); omitted = the account's default rate. */
  taxType?: string;
  /** Overrides the tax Xero computes from the rate (Xero accepts small rounding differences). */
  taxAmount?: number;
  /** Revenue account; omitted = Xero's rules for the organisation (usually required). */
  accountCode?: string;
  /** A discount on the whole line, in money (ACCREC invoices). */
  discountAmount?: number;
}

/** A sales invoice (`ACCREC`) to create. */
export interface XeroNewInvoice {
  contactId: string;
  lineItems: XeroNewLineItem[];
  /** Shown to the customer and searchable; workflows use it as their idempotency handle. */
  reference?: string;
  currencyCode?: string;
  /** `YYYY-MM-DD`. */
  date?: string;
  /** `YYYY-MM-DD`. */
  dueDate?: string;
  /** Default `DRAFT`, as Xero's. */
  status?: "DRAFT" | "SUBMITTED" | "AUTHORISED";
  /** Default `Exclusive`, as Xero's. */
  lineAmountTypes?: "Exclusive" | "Inclusive" | "NoTax";
}

/** Options of a create: Xero's `Idempotency-Key` header (at most 128 characters). */
export interface XeroWriteOptions {
  /** A retry with the same key within Xero's window gets the first answer, not a second record. */
  idempotencyKey?: string;
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
  /**
   * `GET /api.xro/2.0/Contacts?where=EmailAddress=="<email>"` (Xero's optimised filter); the
   * first active match, or `null`.
   */
  findContactByEmail(email: string): Promise<XeroContact | null>;
  /**
   * `PUT /api.xro/2.0/Contacts` (xero-node's `createContacts`).
   * @throws NonRetriableError when Xero refuses it (400), e.g. a name another contact has
   */
  createContact(contact: XeroNewContact, options?: XeroWriteOptions): Promise<XeroContact>;
  /**
   * Find by email, else create. When Xero refuses the name because another contact (with another
   * email) has it, creates `"<name> (<email>)"` instead.
   */
  findOrCreateContact(
    contact: XeroNewContact & { email: string },
    options?: XeroWriteOptions,
  ): Promise<XeroContact & { created: boolean }>;
  /**
   * `GET /api.xro/2.0/Invoices?where=Reference=="<reference>"`: the first invoice with that
   * reference that is not `DELETED`, or `null`.
   */
  getInvoiceByReference(reference: string): Promise<XeroInvoice | null>;
  /**
   * `PUT /api.xro/2.0/Invoices` (xero-node's `createInvoices`): one `ACCREC` invoice.
   * @throws NonRetriableError when Xero's validation refuses it (400)
   */
  createInvoice(invoice: XeroNewInvoice, options?: XeroWriteOptions): Promise<XeroInvoice>;
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

/** Xero's validation message for a contact name another active contact already has. */
const DUPLICATE_NAME = /already assigned to another contact/i;

function toWireLineItem(item: XeroNewLineItem): LineItem {
  const wire: LineItem = {
    description: item.description,
    quantity: item.quantity,
    unitAmount: item.unitAmount,
  };
  if (item.taxType) wire.taxType = item.taxType;
  if (item.taxAmount !== undefined) wire.taxAmount = item.taxAmount;
  if (item.accountCode) wire.accountCode = item.accountCode;
  if (item.discountAmount) wire.discountAmount = item.discountAmount;
  return wire;
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

  const requireFilterValue = (operation: string, name: string, value: string): string => {
    const trimmed = typeof value === "string" ? value.trim() : "";
    if (trimmed === "") throw new NonRetriableError(`xero ${operation}: ${name} is required`);
    // Xero's `where` has no escape for a double quote inside a string literal.
    if (trimmed.includes('"')) throw new NonRetriableError(`xero ${operation}: ${name} may not contain '"'`);
    return trimmed;
  };

  const findContactByEmail = async (email: string): Promise<XeroContact | null> => {
    const wanted = requireFilterValue("findContactByEmail", "email", email);
    return runner.vendor(
      "findContactByEmail",
      async () => {
        const { response, body } = await api.getContacts(tenantId, undefined, `EmailAddress=="${wanted}"`);
        const active = (body.contacts ?? []).find((c) => {
          const status: unknown = c.contactStatus;
          return status === undefined || status === "ACTIVE";
        });
        return { value: active ? mapContact(active) : null, httpStatus: response.status };
      },
      (err) => describeXeroError("findContactByEmail", err),
    );
  };

  const createContact = async (contact: XeroNewContact, options: XeroWriteOptions = {}) => {
    const name = typeof contact.name === "string" ? contact.name.trim() : "";
    if (name === "") throw new NonRetriableError("xero createContact: name is required");
    const wire: Contact = { name };
    if (contact.email) wire.emailAddress = contact.email;
    if (contact.firstName) wire.firstName = contact.firstName;
    if (contact.lastName) wire.lastName = contact.lastName;
    return runner.vendor(
      "createContact",
      async () => {
        const { response, body } = await api.createContacts(
          tenantId,
          { contacts: [wire] },
          undefined,
          options.idempotencyKey,
        );
        const created = body.contacts?.[0];
        if (!created?.contactID) {
          return runner.fail({
            connector: "xero",
            operation: "createContact",
            httpStatus: response.status,
            detail: "the response held no contact",
          });
        }
        return { value: mapContact(created), httpStatus: response.status };
      },
      (err) => describeXeroError("createContact", err),
    );
  };

  return {
    findContactByEmail,
    createContact,

    async findOrCreateContact(contact, options = {}) {
      const email = requireFilterValue("findOrCreateContact", "email", contact.email);
      return runner.composite("findOrCreateContact", async () => {
        const found = await findContactByEmail(email);
        if (found) return { ...found, created: false };
        try {
          return { ...(await createContact({ ...contact, email }, options)), created: true };
        } catch (err) {
          const failure = vendorFailureOf(err);
          if (failure?.httpStatus !== 400 || !DUPLICATE_NAME.test(failure.detail ?? "")) throw err;
          // Another contact (not found by this email) has the name: keep both apart by the email.
          const key = options.idempotencyKey ? { idempotencyKey: `${options.idempotencyKey}:2` } : {};
          const created = await createContact({ ...contact, email, name: `${contact.name} (${email})` }, key);
          return { ...created, created: true };
        }
      });
    },

    async getInvoiceByReference(reference) {
      const wanted = requireFilterValue("getInvoiceByReference", "reference", reference);
      return runner.vendor(
        "getInvoiceByReference",
        async () => {
          const { response, body } = await api.getInvoices(tenantId, undefined, `Reference=="${wanted}"`);
          const live = (body.invoices ?? []).find((i) => {
            const status: unknown = i.status;
            return status !== "DELETED";
          });
          return { value: live ? mapInvoice(live, "") : null, httpStatus: response.status };
        },
        (err) => describeXeroError("getInvoiceByReference", err),
      );
    },

    async createInvoice(input, options = {}) {
      requireId("createInvoice", "contactId", input.contactId);
      if (!Array.isArray(input.lineItems) || input.lineItems.length === 0)
        throw new NonRetriableError("xero createInvoice: at least one line item is required");
      const wire: Invoice = {
        type: Invoice.TypeEnum.ACCREC,
        contact: { contactID: input.contactId },
        lineItems: input.lineItems.map(toWireLineItem),
        // The .d.ts declares these enums numeric; at run time they are Xero's strings.
        lineAmountTypes: (input.lineAmountTypes ?? "Exclusive") as unknown as LineAmountTypes,
        status: (input.status ?? "DRAFT") as unknown as Invoice.StatusEnum,
      };
      if (input.reference) wire.reference = input.reference;
      if (input.currencyCode) wire.currencyCode = input.currencyCode as unknown as CurrencyCode;
      if (input.date) wire.date = input.date;
      if (input.dueDate) wire.dueDate = input.dueDate;
      return runner.vendor(
        "createInvoice",
        async () => {
          const { response, body } = await api.createInvoices(
            tenantId,
            { invoices: [wire] },
            undefined,
            undefined,
            options.idempotencyKey,
          );
          const created = body.invoices?.[0];
          if (!created?.invoiceID) {
            return runner.fail({
              connector: "xero",
              operation: "createInvoice",
              httpStatus: response.status,
              detail: "the response held no invoice",
            });
          }
          return { value: mapInvoice(created, ""), httpStatus: response.status };
        },
        (err) => describeXeroError("createInvoice", err),
      );
    },

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
