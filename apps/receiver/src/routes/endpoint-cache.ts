import type { ReceiverDeps } from "../http/context.js";

export interface CachedEndpoint {
  id: string;
  tenantId: string;
  source: string;
  secrets: string[];
  settings: Record<string, unknown>;
}

/** How long an endpoint (and its decrypted secrets) is reused: a rotation takes effect within it. */
const ENDPOINT_CACHE_MS = 5_000;

/**
 * Active endpoints by id with their secrets decrypted, kept for a few seconds: a burst of
 * deliveries to one endpoint costs one query and one decryption, not one per request.
 */
export function createEndpointCache(
  prisma: Pick<ReceiverDeps["prisma"], "webhookEndpoint">,
  secretBox: Pick<ReceiverDeps["secretBox"], "decrypt">,
  ttlMs = ENDPOINT_CACHE_MS,
) {
  const cache = new Map<string, { value: CachedEndpoint | null; expires: number }>();
  // One lookup per endpoint at a time: when an entry expires under load, the requests that
  // arrive meanwhile wait for that lookup instead of each querying (was ~20 queries per expiry
  // at 50 concurrent deliveries).
  const loading = new Map<string, Promise<CachedEndpoint | null>>();
  const load = async (id: string): Promise<CachedEndpoint | null> => {
    const row = await prisma.webhookEndpoint.findUnique({ where: { id } });
    return row?.active === true
      ? {
          id: row.id,
          tenantId: row.tenantId,
          source: row.source,
          secrets: [row.secretCiphertext, row.previousSecretCiphertext]
            .filter((c): c is string => c !== null)
            .map((c) => secretBox.decrypt(c)),
          settings: (row.settings ?? {}) as Record<string, unknown>,
        }
      : null;
  };
  return {
    get(id: string): Promise<CachedEndpoint | null> {
      const hit = cache.get(id);
      if (hit && hit.expires > Date.now()) return Promise.resolve(hit.value);
      const inFlight = loading.get(id);
      if (inFlight) return inFlight;
      const pending = load(id).then(
        (value) => {
          // Only the current lookup fills the cache: one that `forget` overtook read old data.
          if (loading.get(id) === pending) {
            loading.delete(id);
            if (cache.size > 10_000) cache.clear(); // bounded: unknown ids must not grow it forever
            cache.set(id, { value, expires: Date.now() + ttlMs });
          }
          return value;
        },
        (err: unknown) => {
          if (loading.get(id) === pending) loading.delete(id);
          throw err;
        },
      );
      loading.set(id, pending);
      return pending;
    },
    /** Drops the entry (and any lookup in flight): the next delivery reads the row again. */
    forget(id: string): void {
      cache.delete(id);
      loading.delete(id);
    },
  };
}
