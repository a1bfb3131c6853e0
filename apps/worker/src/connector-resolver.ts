import type { ConnectorCall } from "@zixly/connectors";
import { createTokenBucket, type TokenBucket, vendorRateLimits } from "@zixly/connectors/vault";
import { NonRetriableError } from "@zixly/core";
import { type PrismaClient, rawQueryOf } from "@zixly/db";
import type { WorkflowConnectors } from "@zixly/workflows";
import type { CredentialVault } from "./credential-vault.js";

export interface VendorUrls {
  xeroApiBaseUrl?: string | undefined;
  hubspotApiBaseUrl?: string | undefined;
  shopifyApiBaseUrl?: string | undefined;
  asanaApiBaseUrl?: string | undefined;
}

export interface ConnectorResolverOptions {
  prisma: PrismaClient;
  urls: VendorUrls;
  vault: CredentialVault;
  onCall?: (call: ConnectorCall) => void;
}

/**
 * Builds a job's connectors lazily: a connector loads its vendor's SDK (once per process: the
 * four SDKs weigh about 100 MB, and most workers use one or two) and the tenant's connection
 * (decrypted) the first time the workflow calls it, so workflows need connections only for the vendors
 * they actually use. The connection is matched by the event's account id where it names one
 * (Xero's tenant id), else the tenant's only connection for that provider.
 */
export function createConnectorResolver(options: ConnectorResolverOptions) {
  const { prisma, urls, vault } = options;
  // Every job with a connector step reads its connection: straight on the pool.
  const query = rawQueryOf(prisma);
  // Client-side limiters, one per connection, shared by every job of this process.
  const buckets = new Map<string, TokenBucket>();
  const bucketFor = (provider: string, connectionId: string): TokenBucket | undefined => {
    const limits = vendorRateLimits[provider];
    if (!limits) return undefined;
    let bucket = buckets.get(connectionId);
    if (!bucket) {
      bucket = createTokenBucket(limits);
      buckets.set(connectionId, bucket);
    }
    return bucket;
  };

  interface ConnectionRow {
    id: string;
    name: string;
    provider: string;
    externalAccountId: string;
    credentialsCiphertext: string;
    status: string;
  }

  async function loadConnection(tenantId: string, provider: string, accountId: string | undefined) {
    const rows = await query<ConnectionRow>({
      name: "zixly_job_connection",
      text: `SELECT id::text, name, provider, external_account_id AS "externalAccountId",
                    credentials_ciphertext AS "credentialsCiphertext", status::text AS status
               FROM connections
              WHERE tenant_id = $1::uuid AND provider = $2
                AND ($3::text IS NULL OR external_account_id = $3::text)
              ORDER BY created_at, id LIMIT 2`,
      values: [tenantId, provider, accountId ?? null],
    });
    const [row] = rows;
    if (!row) {
      const which = accountId ? ` for account ${accountId}` : "";
      throw new NonRetriableError(
        `no ${provider} connection${which}: connect ${provider} (POST /api/connections) and replay the job`,
      );
    }
    if (!accountId && rows.length > 1) {
      throw new NonRetriableError(
        `the tenant has several ${provider} connections and the event names no account`,
      );
    }
    if (row.status !== "ACTIVE") {
      throw new NonRetriableError(
        `the ${provider} connection "${row.name}" needs to be re-authorised (status ${row.status})`,
      );
    }
    const credentials = await vault.credentialsFor(row, row.credentialsCiphertext);
    return { row, credentials, bucket: bucketFor(provider, row.id) };
  }

  return {
    /** The connectors for one job of `tenantId`; `accountIds` names the event's account per provider. */
    forJob(
      tenantId: string,
      accountIds: Partial<Record<keyof WorkflowConnectors, string>>,
    ): WorkflowConnectors {
      return {
        xero: lazy(async () => {
          const { row, credentials, bucket } = await loadConnection(tenantId, "xero", accountIds.xero);
          return limited(
            bucket,
            (await import("@zixly/connectors/xero")).createXeroConnector({
              accessToken: credentials.accessToken,
              xeroTenantId: row.externalAccountId,
              apiBaseUrl: urls.xeroApiBaseUrl,
              onCall: options.onCall,
            }),
          );
        }),
        hubspot: lazy(async () => {
          const { credentials, bucket } = await loadConnection(tenantId, "hubspot", accountIds.hubspot);
          return limited(
            bucket,
            (await import("@zixly/connectors/hubspot")).createHubspotConnector({
              accessToken: credentials.accessToken,
              apiBaseUrl: urls.hubspotApiBaseUrl,
              onCall: options.onCall,
            }),
          );
        }),
        shopify: lazy(async () => {
          const { row, credentials, bucket } = await loadConnection(tenantId, "shopify", accountIds.shopify);
          return limited(
            bucket,
            (await import("@zixly/connectors/shopify")).createShopifyConnector({
              accessToken: credentials.accessToken,
              shop: row.externalAccountId,
              apiBaseUrl: urls.shopifyApiBaseUrl,
              onCall: options.onCall,
            }),
          );
        }),
        asana: lazy(async () => {
          const { row, credentials, bucket } = await loadConnection(tenantId, "asana", accountIds.asana);
          return limited(
            bucket,
            (await import("@zixly/connectors/asana")).createAsanaConnector({
              accessToken: credentials.accessToken,
              workspaceGid: row.externalAccountId,
              apiBaseUrl: urls.asanaApiBaseUrl,
              onCall: options.onCall,
            }),
          );
        }),
      };
    },
  };
}

export type ConnectorResolver = ReturnType<typeof createConnectorResolver>;

/** Every operation of `connector` first waits for a slot in the connection's bucket. */
function limited<T extends object>(bucket: TokenBucket | undefined, connector: T): T {
  if (!bucket) return connector;
  return new Proxy(connector, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        await bucket.take();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/**
 * A connector whose every method first awaits `load()` (once). Connector interfaces are
 * all async methods, which is what makes this proxy sound.
 */
function lazy<T extends object>(load: () => Promise<T>): T {
  let loading: Promise<T> | undefined;
  return new Proxy({} as T, {
    get(_target, property) {
      if (property === "then") return undefined; // not a thenable
      return async (...args: unknown[]) => {
        loading ??= load().catch((err: unknown) => {
          loading = undefined;
          throw err;
        });
        const connector = await loading;
        const method = (connector as Record<PropertyKey, unknown>)[property];
        if (typeof method !== "function")
          throw new TypeError(`connector has no operation ${String(property)}`);
        return method.apply(connector, args);
      };
    },
  });
}
