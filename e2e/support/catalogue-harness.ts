// A receiver (HTTP on a random port) + outbox relay + in-process worker over a fresh Postgres
// database and a private Redis key prefix, with all four vendor sandboxes (Xero, HubSpot,
// Shopify, Asana) standing in for the vendors: what the catalogue's workflows need end to end.
// Built the way e2e/harness.ts builds its pipeline; tests drive it through HTTP, as a user would.
import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createLogger, createSecretBox, parseEncryptionKeys } from "@zixly/core";
import { createTestDatabase } from "@zixly/db/testing";
import { createBullmqDriver } from "@zixly/queue/bullmq";
import { createReceiverApp, startOutboxRelay } from "@zixly/receiver";
import {
  ASANA_SANDBOX_DEFAULTS,
  createAsanaSandbox,
  createHubspotSandbox,
  createShopifySandbox,
  createXeroSandbox,
  HUBSPOT_SANDBOX_DEFAULTS,
  SHOPIFY_SANDBOX_DEFAULTS,
  signedXeroInvoiceDelivery,
  XERO_SANDBOX_DEFAULTS,
} from "@zixly/sandboxes";
import { startWorker } from "@zixly/worker";
import { createWorkflowRegistry, workflows } from "@zixly/workflows";
import { type Call, httpClient } from "./http.js";
import { asanaHeaders, hubspotHeaders, shopifyHeaders } from "./signers.js";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const ADMIN_TOKEN = "test-admin-token-catalogue-0123456789";
/** The HubSpot portal the tenant's HubSpot connection (and every HubSpot delivery) names. */
export const HUBSPOT_PORTAL_ID = 62515;

export type CatalogueHarness = Awaited<ReturnType<typeof startCatalogueHarness>>;
export type Tenant = Awaited<ReturnType<CatalogueHarness["setupTenant"]>>;

export async function startCatalogueHarness() {
  const db = await createTestDatabase();
  const prefix = `zixly-e2e-catalogue-${randomUUID()}`;
  const secretBox = createSecretBox(parseEncryptionKeys(`k1:${randomBytes(32).toString("base64")}`));
  const log = createLogger({ name: "e2e-catalogue", level: process.env.E2E_LOG_LEVEL ?? "silent" });
  const queue = createBullmqDriver({ connection: REDIS_URL, prefix });
  const registry = createWorkflowRegistry(workflows);
  const [xero, hubspot, shopify, asana] = await Promise.all([
    createXeroSandbox(),
    createHubspotSandbox(),
    createShopifySandbox(),
    createAsanaSandbox({ jobPollsUntilDone: 1 }),
  ]);

  const app = createReceiverApp({
    prisma: db.prisma,
    queue,
    registry,
    secretBox,
    log,
    config: { adminToken: ADMIN_TOKEN, maxBodyBytes: 1024 * 1024 },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call: Call = httpClient(baseUrl);
  const relay = startOutboxRelay({ prisma: db.prisma, queue, registry, log, intervalMs: 200, graceMs: 100 });

  // Not an object literal on purpose: the worker's `VendorUrls` names the Shopify and Asana
  // base URLs once its connector resolver knows those vendors.
  const urls = {
    xeroApiBaseUrl: xero.url,
    hubspotApiBaseUrl: hubspot.url,
    shopifyApiBaseUrl: shopify.url,
    asanaApiBaseUrl: asana.url,
  };
  const worker = await startWorker({
    prisma: db.prisma,
    queue,
    registry,
    secretBox,
    log,
    concurrency: 4,
    callbackBaseUrl: baseUrl,
    urls,
    retryMaxDelayMs: 200,
  });

  async function endpoint(apiKey: string, source: string, secret?: string) {
    const res = await call("POST", "/api/endpoints", {
      token: apiKey,
      body: { source, name: source, ...(secret ? { secret } : {}) },
    });
    if (res.status !== 201) throw new Error(`${source} endpoint: ${res.status} ${res.text}`);
    return `/webhooks/${res.json.id as string}`;
  }

  /**
   * A tenant with an ADMIN key, an endpoint per source (Asana's after its handshake), and
   * Xero, HubSpot, Shopify and Asana connections to the sandboxes.
   */
  async function setupTenant(name = "Catalogue Ltd") {
    const tenant = await call("POST", "/api/tenants", { token: ADMIN_TOKEN, body: { name } });
    if (tenant.status !== 201) throw new Error(`tenant: ${tenant.status} ${tenant.text}`);
    const apiKey = tenant.json.apiKey as string;
    const secrets = {
      xero: randomBytes(48).toString("base64"),
      hubspot: `hubspot-client-secret-${randomUUID()}`,
      shopify: `shopify-client-secret-${randomUUID()}`,
      asana: `asana-hook-secret-${randomUUID()}`,
    };
    const paths = {
      xero: await endpoint(apiKey, "xero", secrets.xero),
      hubspot: await endpoint(apiKey, "hubspot", secrets.hubspot),
      shopify: await endpoint(apiKey, "shopify", secrets.shopify),
      asana: await endpoint(apiKey, "asana"),
    };
    // Asana's handshake: the endpoint learns its secret from X-Hook-Secret.
    const handshake = await call("POST", paths.asana, { headers: { "x-hook-secret": secrets.asana } });
    if (handshake.status !== 200) throw new Error(`asana handshake: ${handshake.status} ${handshake.text}`);

    const xeroTenantId = randomUUID();
    xero.state.tenants.push({ tenantId: xeroTenantId, tenantName: name });
    for (const [provider, externalAccountId, accessToken] of [
      ["xero", xeroTenantId, XERO_SANDBOX_DEFAULTS.accessToken],
      ["hubspot", String(HUBSPOT_PORTAL_ID), HUBSPOT_SANDBOX_DEFAULTS.accessToken],
      ["shopify", SHOPIFY_SANDBOX_DEFAULTS.shop, SHOPIFY_SANDBOX_DEFAULTS.accessToken],
      ["asana", ASANA_SANDBOX_DEFAULTS.workspaceGid, ASANA_SANDBOX_DEFAULTS.accessToken],
    ] as const) {
      const res = await call("POST", "/api/connections", {
        token: apiKey,
        body: { provider, name: provider, externalAccountId, credentials: { accessToken } },
      });
      if (res.status !== 201) throw new Error(`${provider} connection: ${res.status} ${res.text}`);
    }

    /** Post a body signed the way the source signs, with extra headers. */
    const post = (path: string, body: string, headers: Record<string, string>) =>
      call("POST", path, { body, headers: { "content-type": "application/json", ...headers } });

    return {
      tenantId: tenant.json.id as string,
      apiKey,
      xeroTenantId,
      paths,
      /** A signed Shopify webhook: `topic` as Shopify names it (`orders/paid`). */
      shopify: (topic: string, payload: unknown, eventId = randomUUID()) => {
        const body = JSON.stringify(payload);
        return post(
          paths.shopify,
          body,
          shopifyHeaders(secrets.shopify, body, { topic, shop: SHOPIFY_SANDBOX_DEFAULTS.shop, eventId }),
        );
      },
      /** A signed HubSpot v3 delivery of `events` (portal and ids filled in). */
      hubspot: (events: Record<string, unknown>[]) => {
        const body = JSON.stringify(
          events.map((e, i) => ({
            eventId: Math.floor(Math.random() * 1e9) + i,
            subscriptionId: 25,
            portalId: HUBSPOT_PORTAL_ID,
            appId: 1160452,
            occurredAt: Date.now(),
            attemptNumber: 0,
            changeSource: "CRM_UI",
            ...e,
          })),
        );
        return post(
          paths.hubspot,
          body,
          hubspotHeaders(secrets.hubspot, "POST", `${baseUrl}${paths.hubspot}`, body),
        );
      },
      /** A signed Asana delivery of `events`. */
      asana: (events: Record<string, unknown>[]) => {
        const body = JSON.stringify({ events });
        return post(paths.asana, body, asanaHeaders(secrets.asana, body));
      },
      /** A signed Xero delivery for one invoice event. */
      xero: (invoiceId: string) => {
        const { body, headers } = signedXeroInvoiceDelivery({
          invoiceId,
          xeroTenantId,
          webhookKey: secrets.xero,
        });
        return post(paths.xero, body, headers);
      },
    };
  }

  /** Polls `GET /api/jobs/:id` until `done` holds. */
  async function waitForJob(
    token: string,
    jobId: string,
    done: (job: Record<string, unknown>) => boolean = (j) =>
      j.status === "COMPLETED" || j.status === "FAILED",
    timeoutMs = 20_000,
  ) {
    const deadline = Date.now() + timeoutMs;
    let last: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
      const res = await call("GET", `/api/jobs/${jobId}`, { token });
      last = res.json;
      if (res.status === 200 && done(res.json)) return res.json;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `job ${jobId} did not reach the expected state in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`,
    );
  }

  return {
    baseUrl,
    db,
    queue,
    call,
    xero,
    hubspot,
    shopify,
    asana,
    setupTenant,
    waitForJob,
    async close() {
      await worker.stop();
      await relay.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.close();
      await Promise.all([xero.close(), hubspot.close(), shopify.close(), asana.close()]);
      await db.drop();
    },
  };
}
