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
