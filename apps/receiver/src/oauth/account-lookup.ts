import { NonRetriableError } from "@zixly/core";

/** A vendor account a token grants access to: the `externalAccountId` of a connection. */
export interface GrantedAccount {
  externalAccountId: string;
  name: string;
}

export interface VendorApiUrls {
  xero?: string | undefined;
  hubspot?: string | undefined;
  asana?: string | undefined;
}

async function getJson(url: string, accessToken: string): Promise<unknown> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok)
    throw new NonRetriableError(`account lookup failed: ${res.status} from ${new URL(url).pathname}`);
  return res.json();
}

const trim = (url: string) => url.replace(/\/+$/, "");

/**
 * Which accounts a fresh token belongs to: Xero lists its organisations (tenants) at
 * `/connections`; HubSpot describes a token's portal at `/oauth/v1/access-tokens/:token`;
 * Asana's user lists workspaces at `/api/1.0/users/me`; Shopify tokens are per shop.
 */
export async function grantedAccounts(
  provider: string,
  accessToken: string,
  urls: VendorApiUrls,
  shop: string | null,
): Promise<GrantedAccount[]> {
  switch (provider) {
    case "xero": {
      const list = (await getJson(
        `${trim(urls.xero ?? "https://api.xero.com")}/connections`,
        accessToken,
      )) as Array<{
        tenantId: string;
        tenantName?: string;
      }>;
      return list.map((c) => ({ externalAccountId: c.tenantId, name: c.tenantName ?? c.tenantId }));
    }
    case "hubspot": {
      const info = (await getJson(
        `${trim(urls.hubspot ?? "https://api.hubapi.com")}/oauth/v1/access-tokens/${encodeURIComponent(accessToken)}`,
        accessToken,
      )) as { hub_id: number | string; hub_domain?: string };
      return [{ externalAccountId: String(info.hub_id), name: info.hub_domain ?? String(info.hub_id) }];
    }
    case "asana": {
      const me = (await getJson(
        `${trim(urls.asana ?? "https://app.asana.com")}/api/1.0/users/me`,
        accessToken,
      )) as {
        data: { workspaces?: Array<{ gid: string; name?: string }> };
      };
      return (me.data.workspaces ?? []).map((w) => ({ externalAccountId: w.gid, name: w.name ?? w.gid }));
    }
    case "shopify":
      if (!shop) throw new NonRetriableError("a Shopify connection needs its shop domain");
      return [{ externalAccountId: shop, name: shop }];
    default:
      throw new NonRetriableError(`no OAuth account lookup for ${provider}`);
  }
}
