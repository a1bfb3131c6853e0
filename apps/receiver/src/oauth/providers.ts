import type { OAuthClient } from "@zixly/connectors/vault";

/** Everything the connect flow needs to know about one vendor's OAuth app. */
export interface OAuthProvider {
  client: OAuthClient;
  /** Where the user is sent to grant access (`{shop}` is replaced for Shopify). */
  authorizeUrl: string;
  scopes: string[];
  /** Joins scopes the way the vendor expects. */
  scopeSeparator: " " | ",";
}

export interface OAuthSettings {
  xero?: {
    clientId: string;
    clientSecret: string;
    loginUrl?: string | undefined;
    identityUrl?: string | undefined;
  };
  hubspot?: {
    clientId: string;
    clientSecret: string;
    appUrl?: string | undefined;
    apiUrl?: string | undefined;
  };
  asana?: { clientId: string; clientSecret: string; appUrl?: string | undefined };
  shopify?: { clientId: string; clientSecret: string; apiUrl?: string | undefined };
}

const trim = (url: string) => url.replace(/\/+$/, "");

/**
 * The OAuth apps configured for this installation, keyed by provider. Vendor origins follow the
 * base-URL settings (sandboxes in tests and local runs); paths are the vendors' documented ones.
 */
export function oauthProviders(settings: OAuthSettings): Partial<Record<string, OAuthProvider>> {
  const providers: Partial<Record<string, OAuthProvider>> = {};
  if (settings.xero) {
    const s = settings.xero;
    providers.xero = {
      client: {
        provider: "xero",
        tokenUrl: `${trim(s.identityUrl ?? "https://identity.xero.com")}/connect/token`,
        clientId: s.clientId,
        clientSecret: s.clientSecret,
        clientAuth: "basic",
      },
      authorizeUrl: `${trim(s.loginUrl ?? "https://login.xero.com")}/identity/connect/authorize`,
      scopes: [
        "openid",
        "profile",
        "email",
        "accounting.transactions",
        "accounting.contacts",
        "offline_access",
      ],
      scopeSeparator: " ",
    };
  }
  if (settings.hubspot) {
    const s = settings.hubspot;
    providers.hubspot = {
      client: {
        provider: "hubspot",
        tokenUrl: `${trim(s.apiUrl ?? "https://api.hubapi.com")}/oauth/v1/token`,
        clientId: s.clientId,
        clientSecret: s.clientSecret,
        clientAuth: "body",
      },
      authorizeUrl: `${trim(s.appUrl ?? "https://app.hubspot.com")}/oauth/authorize`,
      scopes: [
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.objects.deals.read",
        "crm.objects.deals.write",
      ],
      scopeSeparator: " ",
    };
  }
  if (settings.asana) {
    const s = settings.asana;
    providers.asana = {
      client: {
        provider: "asana",
        tokenUrl: `${trim(s.appUrl ?? "https://app.asana.com")}/-/oauth_token`,
        clientId: s.clientId,
        clientSecret: s.clientSecret,
        clientAuth: "body",
      },
      authorizeUrl: `${trim(s.appUrl ?? "https://app.asana.com")}/-/oauth_authorize`,
      scopes: ["default"],
      scopeSeparator: " ",
    };
  }
  if (settings.shopify) {
    const s = settings.shopify;
    // Shopify is per shop: both URLs live on the shop's own domain.
    const origin = s.apiUrl ? trim(s.apiUrl) : "https://{shop}";
    providers.shopify = {
      client: {
        provider: "shopify",
        tokenUrl: `${origin}/admin/oauth/access_token`,
        clientId: s.clientId,
        clientSecret: s.clientSecret,
        clientAuth: "body",
      },
      authorizeUrl: `${origin}/admin/oauth/authorize`,
      scopes: ["read_orders", "read_customers"],
      scopeSeparator: ",",
    };
  }
  return providers;
}
