import { randomBytes } from "node:crypto";
import { withTenant } from "@zixly/db";
import type { Request } from "express";
import { Router } from "express";
import { z } from "zod";
import { requireRole } from "../http/auth.js";
import type { ReceiverDeps } from "../http/context.js";
import { HttpError } from "../http/errors.js";
import { parseBody } from "../http/validate.js";
import { sourceNames } from "../sources/index.js";

const CreateEndpoint = z.object({
  source: z.enum(sourceNames),
  name: z.string().trim().min(1).max(200),
  secret: z.string().min(8).max(1024).optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
});

/** Sources whose secret the vendor issues (Zixly cannot make one up for them). */
const vendorIssuedSecret = new Set(["xero", "hubspot", "shopify"]);

/** A Standard Webhooks secret: `whsec_` + base64 of 24 random bytes. */
const generateSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`;

export function baseUrlOf(req: Request, configured: string | undefined): string {
  return (configured ?? `${req.protocol}://${req.get("host")}`).replace(/\/+$/, "");
}

/** Webhook endpoints: where senders post, with their (encrypted) signing secrets. */
export function endpointRoutes(deps: ReceiverDeps): Router {
  const { prisma, secretBox } = deps;
  const router = Router();

  router.post("/", requireRole("ADMIN", "EDITOR"), async (req, res) => {
    const body = parseBody(CreateEndpoint, req.body);
    if (!body.secret && vendorIssuedSecret.has(body.source)) {
      throw new HttpError(
        400,
        "invalid_request",
        `secret is required for ${body.source}: use the key ${body.source} issued for your app`,
      );
    }
    // Asana's secret arrives in its X-Hook-Secret handshake; others get a generated one.
    const generated = !body.secret && body.source !== "asana" ? generateSecret() : undefined;
    const secret = body.secret ?? generated;
    const tenantId = req.auth!.tenantId;
    const endpoint = await withTenant(prisma, tenantId, (tx) =>
      tx.webhookEndpoint.create({
        data: {
          tenantId,
          source: body.source,
          name: body.name,
          secretCiphertext: secret ? secretBox.encrypt(secret) : null,
          settings: (body.settings ?? {}) as object,
        },
        select: { id: true, source: true, name: true, createdAt: true },
      }),
    );
    const url = `${baseUrlOf(req, deps.config.publicBaseUrl)}/webhooks/${endpoint.id}`;
    // A generated secret is shown once; a secret the caller gave is never echoed.
    res.status(201).json({ ...endpoint, url, ...(generated ? { secret: generated } : {}) });
  });

  router.get("/", async (req, res) => {
    const tenantId = req.auth!.tenantId;
    const rows = await withTenant(prisma, tenantId, (tx) =>
      tx.webhookEndpoint.findMany({
        where: { tenantId },
        select: { id: true, source: true, name: true, active: true, createdAt: true },
        orderBy: { createdAt: "desc" },
      }),
    );
    const base = baseUrlOf(req, deps.config.publicBaseUrl);
    res.json({ endpoints: rows.map((e) => ({ ...e, url: `${base}/webhooks/${e.id}` })) });
  });

  return router;
}
