import { randomUUID } from "node:crypto";

/**
 * Xero's wire shapes (Accounting API 2.0, JSON), PascalCase as Xero sends them. Only the fields
 * the sandbox serves are typed; Xero sends more.
 */

/** A Xero contact as it appears in `Contacts` and inside an invoice. */
export interface XeroWireContact {
  ContactID: string;
  ContactStatus: "ACTIVE" | "ARCHIVED" | "GDPRREQUEST";
  Name: string;
  FirstName?: string;
  LastName?: string;
  EmailAddress?: string;
  IsSupplier: boolean;
  IsCustomer: boolean;
  /** `/Date(<ms>+0000)/` */
  UpdatedDateUTC: string;
}

export interface XeroWireLineItem {
  LineItemID: string;
  Description: string;
  Quantity: number;
  UnitAmount: number;
  LineAmount: number;
  TaxAmount: number;
  TaxType: string;
  AccountCode: string;
  Tracking: unknown[];
}

export interface XeroWirePayment {
  PaymentID: string;
  /** `/Date(<ms>+0000)/` */
  Date: string;
  Amount: number;
  Reference?: string;
  CurrencyRate: number;
  HasAccount: boolean;
  HasValidationErrors: boolean;
}

/** `Invoice.Status` values Xero documents. */
export type XeroInvoiceStatus = "DRAFT" | "SUBMITTED" | "AUTHORISED" | "PAID" | "VOIDED" | "DELETED";

/** A Xero invoice as `GET /api.xro/2.0/Invoices/{InvoiceID}` returns it. */
export interface XeroWireInvoice {
  Type: "ACCREC" | "ACCPAY";
  InvoiceID: string;
  InvoiceNumber: string;
  Reference: string;
  Status: XeroInvoiceStatus;
  LineAmountTypes: "Exclusive" | "Inclusive" | "NoTax";
  Contact: XeroWireContact;
  /** `/Date(<ms>+0000)/`, midnight UTC of the invoice date */
  Date: string;
  /** `YYYY-MM-DDT00:00:00` */
  DateString: string;
  DueDate: string;
  DueDateString: string;
  /** Present once the invoice is PAID. */
  FullyPaidOnDate?: string;
  SubTotal: number;
  TotalTax: number;
  Total: number;
  AmountDue: number;
  AmountPaid: number;
  AmountCredited: number;
  CurrencyCode: string;
  CurrencyRate: number;
  SentToContact: boolean;
  HasAttachments: boolean;
  IsDiscounted: boolean;
  LineItems: XeroWireLineItem[];
  Payments: XeroWirePayment[];
  Prepayments: unknown[];
  Overpayments: unknown[];
  CreditNotes: unknown[];
  UpdatedDateUTC: string;
}

/** A date field a seed may give as a `Date`, an ISO string, or Xero's own `/Date(...)/` string. */
export type XeroDateInput = Date | string;

/** What `addContact` accepts: any wire field; the rest gets sensible defaults. */
export type XeroContactSeed = Partial<Omit<XeroWireContact, "UpdatedDateUTC">>;

/**
 * What `addInvoice` accepts: any wire field (PascalCase, as Xero sends it); dates may be `Date`s or
 * ISO strings. Defaults: a fresh `InvoiceID`, `INV-000n`, `ACCREC`, `AUTHORISED`, total 100, one
 * line item; a PAID invoice gets `AmountPaid = Total`, a `FullyPaidOnDate` and one payment.
 */
export type XeroInvoiceSeed = Partial<
  Omit<
    XeroWireInvoice,
    "Contact" | "Date" | "DueDate" | "FullyPaidOnDate" | "DateString" | "DueDateString" | "UpdatedDateUTC"
  >
> & {
  Contact?: XeroContactSeed;
  Date?: XeroDateInput;
  DueDate?: XeroDateInput;
  FullyPaidOnDate?: XeroDateInput;
};

const MS_DATE = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/;

/** Xero's Microsoft JSON date: `/Date(1718409600000+0000)/`. */
export function xeroMsDate(date: Date): string {
  return `/Date(${date.getTime()}+0000)/`;
}

/** Parse a seed date (a `Date`, ISO text or `/Date(...)/`) to a `Date`. */
export function toDate(input: XeroDateInput): Date {
  if (input instanceof Date) return input;
  const ms = MS_DATE.exec(input);
  const date = ms ? new Date(Number(ms[1])) : new Date(input);
  if (Number.isNaN(date.getTime())) throw new Error(`not a date: ${input}`);
  return date;
}

function midnightUtc(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

function dateString(date: Date): string {
  return `${date.toISOString().slice(0, 10)}T00:00:00`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Build a full wire contact from a seed. */
export function buildContact(seed: XeroContactSeed, now: Date): XeroWireContact {
  const contact: XeroWireContact = {
    ContactID: seed.ContactID ?? randomUUID(),
    ContactStatus: seed.ContactStatus ?? "ACTIVE",
    Name: seed.Name ?? ([seed.FirstName, seed.LastName].filter(Boolean).join(" ") || "Sandbox Customer"),
    IsSupplier: seed.IsSupplier ?? false,
    IsCustomer: seed.IsCustomer ?? true,
    UpdatedDateUTC: xeroMsDate(now),
  };
  if (seed.FirstName !== undefined) contact.FirstName = seed.FirstName;
  if (seed.LastName !== undefined) contact.LastName = seed.LastName;
  if (seed.EmailAddress !== undefined) contact.EmailAddress = seed.EmailAddress;
  return contact;
}

/** Build a full wire invoice from a seed (see {@link XeroInvoiceSeed} for the defaults). */
export function buildInvoice(
  seed: XeroInvoiceSeed,
  contact: XeroWireContact,
  sequence: number,
  now: Date,
): XeroWireInvoice {
  const status = seed.Status ?? "AUTHORISED";
  const total = seed.Total ?? 100;
  const totalTax = seed.TotalTax ?? 0;
  const paid = status === "PAID";
  const amountPaid = seed.AmountPaid ?? (paid ? total : 0);
  const amountCredited = seed.AmountCredited ?? 0;
  const date = midnightUtc(seed.Date ? toDate(seed.Date) : now);
  const dueDate = midnightUtc(
    seed.DueDate ? toDate(seed.DueDate) : new Date(date.getTime() + 14 * 86_400_000),
  );
  const paidOn = seed.FullyPaidOnDate
    ? midnightUtc(toDate(seed.FullyPaidOnDate))
    : paid
      ? midnightUtc(now)
      : undefined;
  const subTotal = round2(total - totalTax);

  const invoice: XeroWireInvoice = {
    Type: seed.Type ?? "ACCREC",
    InvoiceID: seed.InvoiceID ?? randomUUID(),
    InvoiceNumber: seed.InvoiceNumber ?? `INV-${String(sequence).padStart(4, "0")}`,
    Reference: seed.Reference ?? "",
    Status: status,
    LineAmountTypes: seed.LineAmountTypes ?? "Exclusive",
    Contact: contact,
    Date: xeroMsDate(date),
    DateString: dateString(date),
    DueDate: xeroMsDate(dueDate),
    DueDateString: dateString(dueDate),
    SubTotal: seed.SubTotal ?? subTotal,
    TotalTax: totalTax,
    Total: total,
    AmountDue: seed.AmountDue ?? round2(total - amountPaid - amountCredited),
    AmountPaid: amountPaid,
    AmountCredited: amountCredited,
    CurrencyCode: seed.CurrencyCode ?? "AUD",
    CurrencyRate: seed.CurrencyRate ?? 1,
    SentToContact: seed.SentToContact ?? true,
    HasAttachments: seed.HasAttachments ?? false,
    IsDiscounted: seed.IsDiscounted ?? false,
    LineItems: seed.LineItems ?? [
      {
        LineItemID: randomUUID(),
        Description: "Sandbox services",
        Quantity: 1,
        UnitAmount: subTotal,
        LineAmount: subTotal,
        TaxAmount: totalTax,
        TaxType: totalTax > 0 ? "OUTPUT" : "NONE",
        AccountCode: "200",
        Tracking: [],
      },
    ],
    Payments:
      seed.Payments ??
      (amountPaid > 0
        ? [
            {
              PaymentID: randomUUID(),
              Date: xeroMsDate(paidOn ?? midnightUtc(now)),
              Amount: amountPaid,
              CurrencyRate: 1,
              HasAccount: false,
              HasValidationErrors: false,
            },
          ]
        : []),
    Prepayments: seed.Prepayments ?? [],
    Overpayments: seed.Overpayments ?? [],
    CreditNotes: seed.CreditNotes ?? [],
    UpdatedDateUTC: xeroMsDate(now),
  };
  if (paidOn) invoice.FullyPaidOnDate = xeroMsDate(paidOn);
  return invoice;
}

/** Tax rates the sandbox knows by `TaxType` (it has no chart of accounts; anything else is 0 %). */
export const XERO_SANDBOX_TAX_RATES: Readonly<Record<string, number>> = {
  OUTPUT: 0.1,
  OUTPUT2: 0.15,
  NONE: 0,
  EXEMPTOUTPUT: 0,
  BASEXCLUDED: 0,
};

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** The result of reading one element of a `PUT/POST /Invoices` body. */
export type InvoiceFromRequest = { ok: true; invoice: XeroWireInvoice } | { ok: false; errors: string[] };

/**
 * Build a wire invoice from one element of a create request (PascalCase, as xero-node sends
 * it): line amounts, tax and totals computed as Xero does for `Exclusive`, `Inclusive` and
 * `NoTax`; a given `TaxAmount` overrides the computed tax. Returns Xero's validation messages
 * instead when the element is not acceptable.
 */
export function invoiceFromRequest(
  element: Record<string, unknown>,
  contact: XeroWireContact | undefined,
  sequence: number,
  now: Date,
): InvoiceFromRequest {
  const errors: string[] = [];
  const type = element.Type === "ACCPAY" ? "ACCPAY" : element.Type === "ACCREC" ? "ACCREC" : undefined;
  if (!type) errors.push("Invoice Type must be specified");
  if (!contact) errors.push("A Contact must be specified for this type of transaction");
  const status = (str(element.Status) ?? "DRAFT") as XeroInvoiceStatus;
  if (!["DRAFT", "SUBMITTED", "AUTHORISED"].includes(status)) {
    errors.push(`Invoice Status '${status}' is not valid for a new invoice`);
  }
  const amountTypes = (str(element.LineAmountTypes) ?? "Exclusive") as XeroWireInvoice["LineAmountTypes"];
  if (!["Exclusive", "Inclusive", "NoTax"].includes(amountTypes)) {
    errors.push(`LineAmountTypes '${amountTypes}' is not valid`);
  }
  const rawLines = Array.isArray(element.LineItems) ? (element.LineItems as Record<string, unknown>[]) : [];
  if (rawLines.length === 0 && status !== "DRAFT") errors.push("Invoice must have at least one line item");
  const lines: XeroWireLineItem[] = [];
  for (const [i, line] of rawLines.entries()) {
    const description = str(line.Description);
    if (!description) errors.push(`Description is required for line item ${i + 1}`);
    const quantity = num(line.Quantity) ?? 1;
    const unitAmount = num(line.UnitAmount) ?? 0;
    const accountCode = str(line.AccountCode);
    if (!accountCode && status !== "DRAFT") {
      errors.push(`Account code must be specified on line item ${i + 1} for an invoice that is not DRAFT`);
    }
    const lineAmount = round2(quantity * unitAmount - (num(line.DiscountAmount) ?? 0));
    const taxType = str(line.TaxType) ?? (amountTypes === "NoTax" ? "NONE" : "");
    const rate = amountTypes === "NoTax" ? 0 : (XERO_SANDBOX_TAX_RATES[taxType] ?? 0);
    const computed =
      amountTypes === "Inclusive"
        ? lineAmount - lineAmount / (1 + rate)
        : amountTypes === "NoTax"
          ? 0
          : lineAmount * rate;
    lines.push({
      LineItemID: randomUUID(),
      Description: description ?? "",
      Quantity: quantity,
      UnitAmount: unitAmount,
      LineAmount: lineAmount,
      TaxAmount: round2(amountTypes === "NoTax" ? 0 : (num(line.TaxAmount) ?? computed)),
      TaxType: taxType,
      AccountCode: accountCode ?? "",
      Tracking: [],
    });
  }
  if (errors.length > 0 || !contact) return { ok: false, errors };
  const totalTax = round2(lines.reduce((sum, l) => sum + l.TaxAmount, 0));
  const lineTotal = round2(lines.reduce((sum, l) => sum + l.LineAmount, 0));
  const subTotal = amountTypes === "Inclusive" ? round2(lineTotal - totalTax) : lineTotal;
  const seed: XeroInvoiceSeed = {
    Type: type ?? "ACCREC",
    Status: status,
    LineAmountTypes: amountTypes,
    Reference: str(element.Reference) ?? "",
    CurrencyCode: str(element.CurrencyCode) ?? "AUD",
    SubTotal: subTotal,
    TotalTax: totalTax,
    Total: round2(subTotal + totalTax),
    LineItems: lines,
    Payments: [],
    SentToContact: false,
  };
  const invoiceNumber = str(element.InvoiceNumber);
  if (invoiceNumber) seed.InvoiceNumber = invoiceNumber;
  const date = str(element.Date);
  if (date) seed.Date = date;
  const dueDate = str(element.DueDate);
  if (dueDate) seed.DueDate = dueDate;
  return { ok: true, invoice: buildInvoice(seed, contact, sequence, now) };
}

/**
 * A small reading of Xero's `where` filter: clauses `Field=="value"` / `Field!="value"` joined by
 * `&&`, fields as dotted paths into the wire record (`Contact.ContactID`), compared
 * case-insensitively. Returns `undefined` for anything else.
 */
export function parseXeroWhere(where: string): ((record: object) => boolean) | undefined {
  const clauses: { path: string[]; equal: boolean; value: string }[] = [];
  for (const part of where.split("&&")) {
    const match = /^\s*([A-Za-z][A-Za-z.]*)\s*(==|!=)\s*"([^"]*)"\s*$/.exec(part);
    if (!match?.[1] || !match[2] || match[3] === undefined) return undefined;
    clauses.push({ path: match[1].split("."), equal: match[2] === "==", value: match[3].toLowerCase() });
  }
  return (record) =>
    clauses.every(({ path, equal, value }) => {
      let current: unknown = record;
      for (const key of path) {
        current =
          typeof current === "object" && current !== null
            ? (current as Record<string, unknown>)[key]
            : undefined;
      }
      const actual =
        typeof current === "string" || typeof current === "number" ? String(current).toLowerCase() : "";
      return (actual === value) === equal;
    });
}
