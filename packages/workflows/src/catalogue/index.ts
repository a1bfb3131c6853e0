import type { AnyWorkflow } from "../registry.js";
import { xeroInvoicePaidToHubspot } from "./xero-invoice-paid-to-hubspot.js";

/** Every workflow Zixly ships; the receiver routes events to these and the worker runs them. */
export const workflows: readonly AnyWorkflow[] = [xeroInvoicePaidToHubspot as AnyWorkflow];

export { hubspotPaymentProperties, xeroInvoicePaidToHubspot } from "./xero-invoice-paid-to-hubspot.js";
