import { createHmac } from "node:crypto";
import { requestToken } from "@zixly/connectors/vault";
import { randomToken, safeEqual, sha256Hex } from "@zixly/core";
import { withTenant } from "@zixly/db";
import { type Request, Router } from "express";
import { requireRole } from "../http/auth.js";
import type { ReceiverDeps } from "../http/context.js";
import { HttpError } from "../http/errors.js";
import { grantedAccounts, type VendorApiUrls } from "../oauth/account-lookup.js";
import type { OAuthProvider } from "../oauth/providers.js";
import { baseUrlOf } from "./endpoints.js";

/** How long a user has to finish the vendor's consent screen. */
const STATE_TTL_MS = 10 * 60_000;
const shopPattern = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

export interface OAuthDeps {
  providers: Partial<Record<string, OAuthProvider>>;
  apiUrls: VendorApiUrls;
}

const callbackUrl = (req: Request, deps: ReceiverDeps, provider: string) =>
  `${baseUrlOf(req, deps.config.publicBaseUrl)}/oauth/callback/${provider}`;

function providerOf(oauth: OAuthDeps, name: string): OAuthProvider {
  const provider = oauth.providers[name];
  if (!provider) throw new HttpError(404, "not_found", `no OAuth app is configured for ${name}`);
  return provider;
}

/** `GET /api/connections/:provider/authorize`: sends the user to the vendor's consent screen. */
export function oauthAuthorizeRoutes(deps: ReceiverDeps, oauth: OAuthDeps): Router {
  const router = Router();
  router.get("/:provider/authorize", requireRole("ADMIN", "EDITOR"), async (req, res) => {
    const providerName = String(req.params.provider);
    const provider = providerOf(oauth, providerName);
    const shop = typeof req.query.shop === "string" ? req.query.shop.toLowerCase() : null;
    if (providerName === "shopify" && (!shop || !shopPattern.test(shop))) {
      throw new HttpError(400, "invalid_request", "shop must be a <name>.myshopify.com domain");
    }
    const name =
      typeof req.query.name === "string" && req.query.name.trim()
        ? req.query.name.trim().slice(0, 200)
        : providerName;
    // The state is a random one-time token bound to this tenant and provider (CSRF protection).
    const state = randomToken(32);
    const tenantId = req.auth!.tenantId;
    await withTenant(deps.prisma, tenantId, (tx) =>
      tx.oAuthState.create({
        data: {
          stateHash: sha256Hex(state),
          tenantId,
          provider: providerName,
          name,
          shop,
          expiresAt: new Date(Date.now() + STATE_TTL_MS),
        },
      }),
    );
    const url = new URL(provider.authorizeUrl.replace("{shop}", shop ?? ""));
    url.searchParams.set("client_id", provider.client.clientId);
    url.searchParams.set("redirect_uri", callbackUrl(req, deps, providerName));
    url.searchParams.set("state", state);
    url.searchParams.set("scope", provider.scopes.join(provider.scopeSeparator));
    if (providerName !== "shopify") url.searchParams.set("response_type", "code");
    if (req.accepts(["html", "json"]) === "json") {
      res.json({ authorizeUrl: url.toString(), expiresInSeconds: STATE_TTL_MS / 1000 });
      return;
    }
    res.redirect(302, url.toString());
  });
  return router;
}

/** Shopify signs its callback's query string (hex HMAC-SHA256 of the sorted parameters). */
function verifyShopifyQuery(query: Request["query"], secret: string): boolean {
  const hmac = typeof query.hmac === "string" ? query.hmac : "";
  const message = Object.keys(query)
    .filter((k) => k !== "hmac" && k !== "signature")
    .sort()
    .map((k) => `${k}=${String(query[k])}`)
    .join("&");
  return hmac !== "" && safeEqual(createHmac("sha256", secret).update(message).digest("hex"), hmac);
}

/**
 * `GET /oauth/callback/:provider?code&state`: the vendor sends the user back here. The state
 * must be one this installation issued, unused and fresh; the code is exchanged for tokens,
 * and one connection is stored (encrypted) per account the token grants.
 */
export function oauthCallbackRoutes(deps: ReceiverDeps, oauth: OAuthDeps): Router {
  const router = Router();
  router.get("/callback/:provider", async (req, res) => {
    const providerName = String(req.params.provider);
    const provider = providerOf(oauth, providerName);
    if (typeof req.query.error === "string") {
      throw new HttpError(400, "access_denied", `${providerName} did not grant access: ${req.query.error}`);
    }
    const code = typeof req.query.code === "string" ? req.query.code : "";
    const state = typeof req.query.state === "string" ? req.query.state : "";
    if (!code || !state) throw new HttpError(400, "invalid_request", "code and state are required");
    if (providerName === "shopify" && !verifyShopifyQuery(req.query, provider.client.clientSecret)) {
      throw new HttpError(401, "invalid_signature", "the Shopify callback's hmac does not verify");
    }

    const stateHash = sha256Hex(state);
    const claimed = await deps.prisma.oAuthState.updateMany({
      where: { stateHash, provider: providerName, usedAt: null, expiresAt: { gt: new Date() } },
      data: { usedAt: new Date() },
    });
    if (claimed.count === 0)
      throw new HttpError(400, "invalid_state", "unknown, used or expired state; start the connection again");
    const pending = await deps.prisma.oAuthState.findUniqueOrThrow({ where: { stateHash } });
    if (providerName === "shopify" && req.query.shop !== pending.shop) {
      throw new HttpError(
        400,
        "invalid_state",
        "the callback is for another shop than the one being connected",
      );
    }

    const client = {
      ...provider.client,
      tokenUrl: provider.client.tokenUrl.replace("{shop}", pending.shop ?? ""),
    };
    const tokens = await requestToken(client, {
      grant_type: "authorization_code",
      code,
      redirect_uri: callbackUrl(req, deps, providerName),
    });
    const accounts = await grantedAccounts(providerName, tokens.accessToken, oauth.apiUrls, pending.shop);
    const ciphertext = deps.secretBox.encrypt(JSON.stringify(tokens));
    const connections = await withTenant(deps.prisma, pending.tenantId, (tx) =>
      Promise.all(
        accounts.map((account) =>
          tx.connection.upsert({
            where: {
              tenantId_provider_externalAccountId: {
                tenantId: pending.tenantId,
                provider: providerName,
                externalAccountId: account.externalAccountId,
              },
            },
            create: {
              tenantId: pending.tenantId,
              provider: providerName,
              externalAccountId: account.externalAccountId,
              name: accounts.length > 1 ? `${pending.name} (${account.name})` : pending.name,
              credentialsCiphertext: ciphertext,
              expiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null,
            },
            update: {
              credentialsCiphertext: ciphertext,
              expiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : null,
              status: "ACTIVE",
            },
            select: { id: true, provider: true, name: true, externalAccountId: true, status: true },
          }),
        ),
      ),
    );
    req.log.info(
      { provider: providerName, tenantId: pending.tenantId, accounts: connections.length },
      "OAuth connection stored",
    );
    res.json({ connections });
  });
  return router;
}
