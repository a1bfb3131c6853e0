import { randomToken, sha256Hex } from "@zixly/core";
import { withTenant } from "@zixly/db";
import { type RequestHandler, Router } from "express";
import { z } from "zod";
import { API_KEY_PREFIX, parseRole, requireAdminToken, requireRole } from "../http/auth.js";
import type { ReceiverDeps } from "../http/context.js";
import { notFound } from "../http/errors.js";
import { isUuid, parseBody } from "../http/validate.js";

const CreateTenant = z.object({
  name: z.string().trim().min(1).max(200),
  adminEmail: z.email().optional(),
});
const CreateKey = z.object({
  name: z.string().trim().min(1).max(200),
  role: z.unknown().transform(parseRole),
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((at) => Date.parse(at) > Date.now(), "must be in the future")
    .optional(),
});

function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = `${API_KEY_PREFIX}${randomToken(32)}`;
  return { key, hash: sha256Hex(key), prefix: key.slice(0, 10) };
}

/** Tenants (operator bootstrap) and their API keys. */
export function tenantRoutes(deps: ReceiverDeps, authenticated: RequestHandler[]): Router {
  const { prisma } = deps;
  const router = Router();

  router.post("/tenants", requireAdminToken(deps.config.adminToken), async (req, res) => {
    const body = parseBody(CreateTenant, req.body);
    const apiKey = newApiKey();
    const tenant = await prisma.tenant.create({
      data: {
        name: body.name,
        users: body.adminEmail ? { create: { email: body.adminEmail, role: "ADMIN" } } : undefined,
        apiKeys: {
          create: { name: "bootstrap admin key", role: "ADMIN", keyHash: apiKey.hash, prefix: apiKey.prefix },
        },
      },
      select: { id: true, name: true, createdAt: true },
    });
    req.log.info({ tenantId: tenant.id }, "tenant created");
    // The key is shown here once; only its hash is stored.
    res.status(201).json({ ...tenant, apiKey: apiKey.key, role: "ADMIN" });
  });

  router.post("/keys", ...authenticated, requireRole("ADMIN"), async (req, res) => {
    const body = parseBody(CreateKey, req.body);
    const apiKey = newApiKey();
    const tenantId = req.auth!.tenantId;
    const row = await withTenant(prisma, tenantId, (tx) =>
      tx.apiKey.create({
        data: {
          tenantId,
          name: body.name,
          role: body.role,
          keyHash: apiKey.hash,
          prefix: apiKey.prefix,
          expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
        },
        select: { id: true, name: true, role: true, prefix: true, createdAt: true, expiresAt: true },
      }),
    );
    res.status(201).json({ ...row, apiKey: apiKey.key });
  });

  router.get("/keys", ...authenticated, requireRole("ADMIN"), async (req, res) => {
    const tenantId = req.auth!.tenantId;
    const keys = await withTenant(prisma, tenantId, (tx) =>
      tx.apiKey.findMany({
        where: { tenantId },
        select: {
          id: true,
          name: true,
          role: true,
          prefix: true,
          createdAt: true,
          expiresAt: true,
          revokedAt: true,
          lastUsedAt: true,
        },
        orderBy: { createdAt: "desc" },
      }),
    );
    res.json({ keys });
  });

  router.delete("/keys/:id", ...authenticated, requireRole("ADMIN"), async (req, res) => {
    const id = req.params.id as string;
    if (!isUuid(id)) throw notFound("API key");
    const tenantId = req.auth!.tenantId;
    const { count } = await withTenant(prisma, tenantId, (tx) =>
      tx.apiKey.updateMany({ where: { id, tenantId, revokedAt: null }, data: { revokedAt: new Date() } }),
    );
    if (count === 0) throw notFound("API key");
    res.status(204).end();
  });

  return router;
}
