import type { AnyWorkflow } from "../registry.js";
import { asanaTaskCompletedToHubspotNote } from "./asana-task-completed-to-hubspot-note.js";
import { hubspotDealWonToAsanaProject } from "./hubspot-deal-won-to-asana-project.js";
import { shopifyOrderToXeroInvoice } from "./shopify-order-to-xero-invoice.js";
import { xeroInvoicePaidToHubspot } from "./xero-invoice-paid-to-hubspot.js";

/** Every workflow Zixly ships; the receiver routes events to these and the worker runs them. */
export const workflows: readonly AnyWorkflow[] = [
  xeroInvoicePaidToHubspot as AnyWorkflow,
  shopifyOrderToXeroInvoice as AnyWorkflow,
  hubspotDealWonToAsanaProject as AnyWorkflow,
  asanaTaskCompletedToHubspotNote as AnyWorkflow,
];

export {
  asanaTaskCompletedToHubspotNote,
  isCompletionChange,
} from "./asana-task-completed-to-hubspot-note.js";
export {
  CLOSED_WON,
  hubspotAsanaDealProperties,
  hubspotDealWonToAsanaProject,
  isDealWon,
  onboardingTasks,
} from "./hubspot-deal-won-to-asana-project.js";
export {
  invoiceFor,
  shopifyInvoiceReference,
  shopifyInvoiceSettings,
  shopifyOrderToXeroInvoice,
} from "./shopify-order-to-xero-invoice.js";
export {
  hubspotDealPaymentProperties,
  hubspotPaymentProperties,
  xeroInvoicePaidToHubspot,
} from "./xero-invoice-paid-to-hubspot.js";
