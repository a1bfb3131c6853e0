import { type ConnectorCall, createHubspotConnector, createXeroConnector } from "@zixly/connectors";
import { NonRetriableError, type SecretBox } from "@zixly/core";
import type { PrismaClient } from "@zixly/db";
import type { WorkflowConnectors } from "@zixly/workflows";

export interface VendorUrls {
  xeroApiBaseUrl?: string | undefined;
  hubspotApiBaseUrl?: string | undefined;
}

interface StoredCredentials {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: string;
}

export interface ConnectorResolverOptions {
  prisma: PrismaClient;
  secretBox: SecretBox;
  urls: VendorUrls;
  onCall?: (call: ConnectorCall) => void;
}

/**
 * Builds a job's connectors lazily: a connector loads (and decrypts) the tenant's connection
 * the first time the workflow calls it, so workflows need connections only for the vendors
 * they actually use. The connection is matched by the event's account id where it names one
 * (Xero's tenant id), else the tenant's only connection for that provider.
 */
export function createConnectorResolver(options: ConnectorResolverOptions) {
  const { prisma, secretBox, urls } = options;

  async function loadConnection(tenantId: string, provider: string, accountId: string | undefined) {
    const rows = await prisma.connection.findMany({
      where: { tenantId, provider, ...(accountId ? { externalAccountId: accountId } : {}) },
      orderBy: { createdAt: "asc" },
      take: 2,
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
    const credentials = JSON.parse(secretBox.decrypt(row.credentialsCiphertext)) as StoredCredentials;
    return { row, credentials };
  }

  return {
    /** The connectors for one job of `tenantId`; `accountIds` names the event's account per provider. */
    forJob(
      tenantId: string,
      accountIds: Partial<Record<keyof WorkflowConnectors, string>>,
    ): WorkflowConnectors {
      return {
        xero: lazy(async () => {
          const { row, credentials } = await loadConnection(tenantId, "xero", accountIds.xero);
          return createXeroConnector({
            accessToken: credentials.accessToken,
            xeroTenantId: row.externalAccountId,
            apiBaseUrl: urls.xeroApiBaseUrl,
            onCall: options.onCall,
          });
        }),
        hubspot: lazy(async () => {
          const { credentials } = await loadConnection(tenantId, "hubspot", accountIds.hubspot);
          return createHubspotConnector({
            accessToken: credentials.accessToken,
            apiBaseUrl: urls.hubspotApiBaseUrl,
            onCall: options.onCall,
          });
        }),
      };
    },
  };
}

export type ConnectorResolver = ReturnType<typeof createConnectorResolver>;

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
