import { isReauthorizationRequired, type OAuthClient, refreshAccessToken } from "@zixly/connectors/vault";
import { NonRetriableError, type SecretBox } from "@zixly/core";
import type { PrismaClient } from "@zixly/db";

/** What a connection's encrypted credentials hold. */
export interface StoredCredentials {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: string;
}

export interface ConnectionRef {
  id: string;
  provider: string;
  name: string;
}

export interface CredentialVaultOptions {
  prisma: PrismaClient;
  secretBox: SecretBox;
  /** This installation's OAuth apps, by provider; a provider without one cannot refresh. */
  oauthClients: Partial<Record<string, OAuthClient>>;
  /** Refresh when fewer than this many ms remain (default 5 minutes). */
  refreshMarginMs?: number;
  onRefresh?: (provider: string, outcome: "success" | "invalid_grant" | "error") => void;
  fetchImpl?: typeof fetch;
}

interface LockedRow {
  credentials_ciphertext: string;
  status: string;
}

/**
 * Hands out access tokens that have at least five minutes left, refreshing them when needed.
 * A refresh is serialised per connection across every worker: it runs inside a transaction
 * holding the connection row `FOR UPDATE`, and re-reads the credentials under that lock, so
 * the second worker to arrive finds the token the first one stored. That matters because
 * Xero's refresh tokens are single-use: two refreshes with one token break the connection.
 * A refresh refused with `invalid_grant` marks the connection NEEDS_REAUTH and fails the job
 * without retries.
 */
export function createCredentialVault(options: CredentialVaultOptions) {
  const { prisma, secretBox } = options;
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  // One refresh in flight per connection in this process, so waiting jobs hold no extra DB connections.
  const inFlight = new Map<string, Promise<StoredCredentials>>();

  const fresh = (c: StoredCredentials) => !c.expiresAt || Date.parse(c.expiresAt) - Date.now() > margin;

  async function refreshLocked(connection: ConnectionRef): Promise<StoredCredentials> {
    const outcome = await prisma.$transaction(
      async (tx) => {
        const [row] = await tx.$queryRaw<LockedRow[]>`
          SELECT credentials_ciphertext, status FROM connections WHERE id = ${connection.id}::uuid FOR UPDATE`;
        if (!row) return { kind: "gone" as const };
        if (row.status !== "ACTIVE") return { kind: "needs-reauth" as const };
        const current = JSON.parse(secretBox.decrypt(row.credentials_ciphertext)) as StoredCredentials;
        if (fresh(current)) return { kind: "ok" as const, credentials: current }; // another worker refreshed
        const client = options.oauthClients[connection.provider];
        if (!client || !current.refreshToken) {
          return { kind: "expired" as const };
        }
        try {
          const tokens = await refreshAccessToken(client, current.refreshToken, options.fetchImpl);
          const next: StoredCredentials = {
            accessToken: tokens.accessToken,
            ...((tokens.refreshToken ?? current.refreshToken)
              ? { refreshToken: tokens.refreshToken ?? current.refreshToken }
              : {}),
            ...(tokens.expiresAt ? { expiresAt: tokens.expiresAt } : {}),
          };
          await tx.connection.update({
            where: { id: connection.id },
            data: {
              credentialsCiphertext: secretBox.encrypt(JSON.stringify(next)),
              expiresAt: next.expiresAt ? new Date(next.expiresAt) : null,
            },
          });
          options.onRefresh?.(connection.provider, "success");
          return { kind: "ok" as const, credentials: next };
        } catch (err) {
          if (!isReauthorizationRequired(err)) {
            options.onRefresh?.(connection.provider, "error");
            throw err;
          }
          await tx.connection.update({ where: { id: connection.id }, data: { status: "NEEDS_REAUTH" } });
          options.onRefresh?.(connection.provider, "invalid_grant");
          return { kind: "needs-reauth" as const };
        }
      },
      { maxWait: 30_000, timeout: 45_000 },
    );
    if (outcome.kind === "ok") return outcome.credentials;
    if (outcome.kind === "gone")
      throw new NonRetriableError(`the ${connection.provider} connection was deleted`);
    const reason =
      outcome.kind === "expired"
        ? "its access token expired and it has no refresh token (or no OAuth app is configured)"
        : "the vendor refused its refresh token";
    throw new NonRetriableError(
      `the ${connection.provider} connection "${connection.name}" needs to be re-authorised: ${reason}. ` +
        "Reconnect it, then replay the failed jobs.",
    );
  }

  return {
    /** Credentials with a usable access token for `connection` (decrypted from `ciphertext`). */
    async credentialsFor(connection: ConnectionRef, ciphertext: string): Promise<StoredCredentials> {
      const stored = JSON.parse(secretBox.decrypt(ciphertext)) as StoredCredentials;
      if (fresh(stored)) return stored;
      let pending = inFlight.get(connection.id);
      if (!pending) {
        pending = refreshLocked(connection).finally(() => inFlight.delete(connection.id));
        inFlight.set(connection.id, pending);
      }
      return pending;
    },
  };
}
export type CredentialVault = ReturnType<typeof createCredentialVault>;
