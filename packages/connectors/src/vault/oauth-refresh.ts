import { NonRetriableError, RetryAfterError } from "@zixly/core";

/** A vendor's OAuth 2.0 token endpoint and this installation's app credentials there. */
export interface OAuthClient {
  provider: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Xero wants the client in HTTP Basic auth; HubSpot and Asana in the form body. */
  clientAuth: "basic" | "body";
}

export interface TokenSet {
  accessToken: string;
  /** Rotating refresh tokens (Xero: single use) replace the old one; absent = keep the old one. */
  refreshToken?: string;
  expiresAt?: string;
}

/** The vendor refused the refresh token (`invalid_grant`): only a person reconnecting can fix it. */
export class ReauthorizationRequiredError extends NonRetriableError {
  override readonly name = "NonRetriableError";
  readonly reauthorizationRequired = true;
}

export const isReauthorizationRequired = (err: unknown): boolean =>
  (err as { reauthorizationRequired?: unknown })?.reauthorizationRequired === true;

/**
 * OAuth token requests (RFC 6749 §6 refresh, §4.1.3 code exchange) to a vendor's token
 * endpoint. Plain `fetch`: these are standard OAuth endpoints, and the SDKs' own helpers need
 * network discovery (xero-node's openid-client) that a sandbox base URL cannot satisfy.
 * Secrets never appear in error messages.
 */
export async function requestToken(
  client: OAuthClient,
  grant: Record<string, string>,
  fetchImpl: typeof fetch = fetch,
): Promise<TokenSet> {
  const form = new URLSearchParams(grant);
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
  };
  if (client.clientAuth === "basic") {
    headers.authorization = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`;
  } else {
    form.set("client_id", client.clientId);
    form.set("client_secret", client.clientSecret);
  }

  let res: Response;
  try {
    res = await fetchImpl(client.tokenUrl, {
      method: "POST",
      headers,
      body: form,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new Error(`${client.provider} token endpoint unreachable: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // a non-JSON error page; the status decides below
  }
  if (res.ok && typeof body.access_token === "string") {
    const expiresIn = Number(body.expires_in);
    return {
      accessToken: body.access_token,
      ...(typeof body.refresh_token === "string" ? { refreshToken: body.refresh_token } : {}),
      ...(Number.isFinite(expiresIn) && expiresIn > 0
        ? { expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() }
        : {}),
    };
  }
  const code = typeof body.error === "string" ? body.error : `HTTP ${res.status}`;
  if (code === "invalid_grant") {
    throw new ReauthorizationRequiredError(`${client.provider} refused the refresh token (invalid_grant)`);
  }
  if (res.status === 429) {
    const seconds = Number(res.headers.get("retry-after"));
    throw new RetryAfterError(
      `${client.provider} token endpoint rate limited`,
      Number.isFinite(seconds) ? seconds * 1000 : 60_000,
    );
  }
  if (res.status >= 500) throw new Error(`${client.provider} token endpoint failed: ${res.status}`);
  throw new NonRetriableError(`${client.provider} token request refused: ${code}`);
}

/** Exchanges a refresh token for a new token set. */
export function refreshAccessToken(
  client: OAuthClient,
  refreshToken: string,
  fetchImpl?: typeof fetch,
): Promise<TokenSet> {
  return requestToken(client, { grant_type: "refresh_token", refresh_token: refreshToken }, fetchImpl);
}
