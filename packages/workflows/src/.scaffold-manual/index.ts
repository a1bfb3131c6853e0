import type { AnyWorkflow } from "../registry.js";
import { deleteWorkflow } from "./delete.js";
import { myAsanaFlow } from "./my-asana-flow.js";
import { myHubspotFlow } from "./my-hubspot-flow.js";
import { myShopifyFlow } from "./my-shopify-flow.js";
import { myStandardFlow } from "./my-standard-flow.js";
import { myXeroFlow } from "./my-xero-flow.js";
import { xeroInvoicePaidToHubspot } from "./xero-invoice-paid-to-hubspot.js";

/** Every workflow Zixly ships; the receiver routes events to these and the worker runs them. */
export const workflows: readonly AnyWorkflow[] = [
  xeroInvoicePaidToHubspot as AnyWorkflow,
  myStandardFlow as AnyWorkflow,
  myXeroFlow as AnyWorkflow,
  myHubspotFlow as AnyWorkflow,
  myShopifyFlow as AnyWorkflow,
  myAsanaFlow as AnyWorkflow,
  deleteWorkflow as AnyWorkflow,
];

export { deleteWorkflow } from "./delete.js";
export { myAsanaFlow } from "./my-asana-flow.js";
export { myHubspotFlow } from "./my-hubspot-flow.js";
export { myShopifyFlow } from "./my-shopify-flow.js";
export { myStandardFlow } from "./my-standard-flow.js";
export { myXeroFlow } from "./my-xero-flow.js";
export { hubspotPaymentProperties, xeroInvoicePaidToHubspot } from "./xero-invoice-paid-to-hubspot.js";
