import { asanaSource } from "./asana.js";
import { hubspotSource } from "./hubspot.js";
import { shopifySource } from "./shopify.js";
import { standardWebhooksSource } from "./standard-webhooks.js";
import type { WebhookSource } from "./types.js";
import { xeroSource } from "./xero.js";

/** Every sender kind an endpoint can be created for. */
export const sourceNames = ["xero", "hubspot", "shopify", "asana", "standard"] as const;
export type SourceName = (typeof sourceNames)[number];

const sources: Record<SourceName, WebhookSource> = {
  xero: xeroSource,
  hubspot: hubspotSource,
  shopify: shopifySource,
  asana: asanaSource,
  standard: standardWebhooksSource,
};

/** The source implementation for an endpoint's `source`, or `undefined` for an unknown name. */
export function getSource(name: string): WebhookSource | undefined {
  return Object.hasOwn(sources, name) ? sources[name as SourceName] : undefined;
}

export type { SourceEndpoint, SourceRequest, SourceResult, WebhookSource } from "./types.js";
export { WebhookPayloadError, WebhookVerificationError } from "./types.js";
