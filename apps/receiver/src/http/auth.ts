import { safeEqual, sha256Hex } from "@zixly/core";
import type { PrismaClient } from "@zixly/db";
import type { RequestHandler } from "express";
import type { Role } from "./context.js";
import { HttpError } from "./errors.js";

/** Keys look like `zx_<43 url-safe chars>`; the prefix makes leaked keys easy to scan for. */
export const API_KEY_PREFIX = "zx_";

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

const unauthenticated = () =>
  new HttpError(401, "unauthenticated", "a valid API key is required (Authorization: Bearer <key>)", {
    "WWW-Authenticate": 'Bearer realm="zixly"',
  });

/** How stale `last_used_at` may get before a request refreshes it (saves a write per request). */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Authenticates `Authorization: Bearer <api key>` against stored hashes and sets `req.auth`. */
export function requireApiKey(prisma: PrismaClient): RequestHandler {
  return async (req, _res, next) => {
    const key = bearer(req.get("authorization"));
    if (!key?.startsWith(API_KEY_PREFIX)) throw unauthenticated();
    const row = await prisma.apiKey.findUnique({
      where: { keyHash: sha256Hex(key) },
      select: { id: true, tenantId: true, role: true, expiresAt: true, revokedAt: true, lastUsedAt: true },
    });
    const now = Date.now();
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now)) throw unauthenticated();
    req.auth = { tenantId: row.tenantId, role: row.role, apiKeyId: row.id };
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      prisma.apiKey
        .update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } })
        .catch((err: unknown) => req.log.warn({ err }, "could not record API key use"));
    }
    next();
  };
}

/** Refuses the request unless the key's role is one of `roles`. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.auth || !roles.includes(req.auth.role)) {
      throw new HttpError(403, "forbidden", `this action needs one of the roles ${roles.join(", ")}`);
    }
    next();
  };
}

/** Checks the operator's bootstrap token (`ZIXLY_ADMIN_TOKEN`). */
export function requireAdminToken(adminToken: string): RequestHandler {
  return (req, _res, next) => {
    const token = bearer(req.get("authorization"));
    if (!token || !safeEqual(sha256Hex(token), sha256Hex(adminToken))) {
      throw new HttpError(401, "unauthenticated", "the bootstrap admin token is required", {
        "WWW-Authenticate": 'Bearer realm="zixly-admin"',
      });
    }
    next();
  };
}

/** A role value from user input, or a 400. */
export function parseRole(value: unknown): Role {
  if (value === "ADMIN" || value === "EDITOR" || value === "VIEWER") return value;
  throw new HttpError(400, "invalid_request", "role must be ADMIN, EDITOR or VIEWER");
}
