/**
 * A client-side rate limiter (token bucket): `take()` resolves when a call may go out. Used per
 * connection so a burst of jobs does not trip a vendor's limit in the first place (Xero: 60
 * calls a minute per tenant; HubSpot: 100–190 per 10 s per app; Asana: 150 a minute).
 */
export interface TokenBucket {
  take(): Promise<void>;
}

export function createTokenBucket(options: {
  ratePerSec: number;
  burst: number;
  now?: () => number;
}): TokenBucket {
  const now = options.now ?? Date.now;
  let tokens = options.burst;
  let updated = now();
  let chain: Promise<void> = Promise.resolve();
  const refill = () => {
    const t = now();
    tokens = Math.min(options.burst, tokens + ((t - updated) / 1000) * options.ratePerSec);
    updated = t;
  };
  const takeOne = async () => {
    refill();
    if (tokens < 1) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.ceil(((1 - tokens) / options.ratePerSec) * 1000)),
      );
      refill();
    }
    tokens -= 1;
  };
  return {
    take() {
      // Calls queue in order: the bucket is fair between the jobs sharing a connection.
      const next = chain.then(takeOne);
      chain = next.catch(() => undefined);
      return next;
    },
  };
}

/** Documented per-connection vendor limits, as steady rates with a small burst. */
export const vendorRateLimits: Record<string, { ratePerSec: number; burst: number }> = {
  xero: { ratePerSec: 1, burst: 5 }, // 60/min per tenant, 5 concurrent
  hubspot: { ratePerSec: 10, burst: 20 }, // 100 per 10 s (private apps: 190)
  shopify: { ratePerSec: 2, burst: 40 }, // REST leaky bucket: 40 deep, leaks 2/s
  asana: { ratePerSec: 2.5, burst: 10 }, // 150/min on free plans
};
