import { withTenant } from "@zixly/db";
import { Router } from "express";
import { z } from "zod";
import { requireRole } from "../http/auth.js";
import type { ReceiverDeps } from "../http/context.js";
import { parseBody } from "../http/validate.js";

const CreateConnection = z.object({
  provider: z.enum(["xero", "hubspot", "shopify", "asana"]),
  name: z.string().trim().min(1).max(200),
  externalAccountId: z.string().trim().min(1).max(255),
  credentials: z
    .object({
      accessToken: z.string().min(1),
      refreshToken: z.string().min(1).optional(),
      expiresAt: z.iso.datetime({ offset: true }).optional(),
    })
    .strict(),
});

const publicFields = {
  id: true,
  provider: true,
  name: true,
  externalAccountId: true,
  status: true,
  expiresAt: true,
  createdAt: true,
} as const;

/** A tenant's vendor accounts. Credentials are encrypted before they are stored and never returned. */
export function connectionRoutes(deps: ReceiverDeps): Router {
  const { prisma, secretBox } = deps;
  const router = Router();

  router.post("/", requireRole("ADMIN", "EDITOR"), async (req, res) => {
    const body = parseBody(CreateConnection, req.body);
    const tenantId = req.auth!.tenantId;
    const data = {
      name: body.name,
      credentialsCiphertext: secretBox.encrypt(JSON.stringify(body.credentials)),
      expiresAt: body.credentials.expiresAt ? new Date(body.credentials.expiresAt) : null,
      status: "ACTIVE" as const,
    };
    // Connecting the same account again replaces its credentials (a reconnect).
    const connection = await withTenant(prisma, tenantId, (tx) =>
      tx.connection.upsert({
        where: {
          tenantId_provider_externalAccountId: {
            tenantId,
            provider: body.provider,
            externalAccountId: body.externalAccountId,
          },
        },
        create: { tenantId, provider: body.provider, externalAccountId: body.externalAccountId, ...data },
        update: data,
        select: publicFields,
      }),
    );
    res.status(201).json(connection);
  });

  router.get("/", async (req, res) => {
    const tenantId = req.auth!.tenantId;
    const connections = await withTenant(prisma, tenantId, (tx) =>
      tx.connection.findMany({ where: { tenantId }, select: publicFields, orderBy: { createdAt: "desc" } }),
    );
    res.json({ connections });
  });

  return router;
}
