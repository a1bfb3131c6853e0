import type { WebhookSource } from "./types.js";
import { xeroSource } from "./xero.js";

/** Every sender kind an endpoint can be created for. */
export const sourceNames = ["xero", "hubspot", "shopify", "asana", "standard"] as const;
export type SourceName = (typeof sourceNames)[number];

const implemented: Partial<Record<SourceName, WebhookSource>> = { xero: xeroSource };

/** The source implementation, or `undefined` while a source is not implemented yet. */
export function getSource(name: string): WebhookSource | undefined {
  return implemented[name as SourceName];
}

export { WebhookPayloadError, WebhookVerificationError } from "./types.js";
export type { SourceEndpoint, SourceRequest, SourceResult, WebhookSource } from "./types.js";
