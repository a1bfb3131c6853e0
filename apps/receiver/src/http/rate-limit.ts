import type { RequestHandler, Response } from "express";
import type { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { HttpError } from "./errors.js";

/** Requests allowed per key per window. */
export interface RateLimitPolicy {
  points: number;
  windowSec: number;
}

/** A per-key limiter; `consume` says whether one more request fits. */
export interface RateLimiter {
  readonly policy: RateLimitPolicy;
  consume(key: string): Promise<{ allowed: boolean; remaining: number; resetMs: number }>;
}

/**
 * A fixed-window limiter in Redis, shared by every receiver replica. If Redis cannot answer,
 * the request is allowed (fail open): a rate limiter must never be the reason an event is lost.
 */
export function createRedisRateLimiter(redis: Redis, name: string, policy: RateLimitPolicy): RateLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `zixly:ratelimit:${name}`,
    points: policy.points,
    duration: policy.windowSec,
    rejectIfRedisNotReady: true,
  });
  return {
    policy,
    async consume(key) {
      try {
        const res = await limiter.consume(key, 1);
        return { allowed: true, remaining: res.remainingPoints, resetMs: res.msBeforeNext };
      } catch (err) {
        if (err instanceof RateLimiterRes) return { allowed: false, remaining: 0, resetMs: err.msBeforeNext };
        return { allowed: true, remaining: policy.points, resetMs: policy.windowSec * 1000 };
      }
    },
  };
}

function setHeaders(res: Response, policy: RateLimitPolicy, remaining: number, resetMs: number): void {
  res.set({
    "X-RateLimit-Limit": String(policy.points),
    "X-RateLimit-Remaining": String(Math.max(0, remaining)),
    "X-RateLimit-Reset": String(Math.ceil((Date.now() + resetMs) / 1000)),
  });
}

/**
 * Limits requests per key (the tenant for the API, the endpoint for webhooks): over the limit
 * answers `429` with `Retry-After` and `X-RateLimit-*` headers.
 */
export function rateLimit(
  limiter: RateLimiter | undefined,
  keyOf: (req: Parameters<RequestHandler>[0]) => string | undefined,
  onLimited?: (req: Parameters<RequestHandler>[0]) => void,
): RequestHandler {
  return async (req, res, next) => {
    const key = limiter ? keyOf(req) : undefined;
    if (!limiter || !key) {
      next();
      return;
    }
    const outcome = await limiter.consume(key);
    setHeaders(res, limiter.policy, outcome.remaining, outcome.resetMs);
    if (!outcome.allowed) {
      onLimited?.(req);
      throw new HttpError(429, "rate_limited", "too many requests; retry after the time in Retry-After", {
        "Retry-After": String(Math.max(1, Math.ceil(outcome.resetMs / 1000))),
      });
    }
    next();
  };
}
