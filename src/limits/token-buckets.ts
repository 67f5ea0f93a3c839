/**
 * Token buckets: a request rate with bursts. Per tenant they may be shared by every instance
 * through Redis (state/shared-limits.ts); these are the ones in this process.
 */
import { LRUCache } from 'lru-cache';
import { bounded } from './lru.ts';
import type { SharedLimits } from './shared.ts';

/** Buckets remembered at once; the least recently used is forgotten (and starts full again). */
const BUCKETS = 100_000;

/** Token buckets by key: `capacity` tokens, refilled at `perSecond`. */
export class TokenBuckets {
  readonly #buckets = new LRUCache<string, { tokens: number; at: number }>(bounded(BUCKETS));

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes `count` tokens, all or none: 0 when they were there, else the milliseconds until they
   * will be. None are taken from a refused request, so one that asks for many is not starved by
   * retrying into a bucket it keeps draining partway.
   */
  take(key: string, count = 1): number {
    const now = this.now();
    const tokens = this.#tokens(key, now);
    this.#buckets.set(key, { tokens: tokens >= count ? tokens - count : tokens, at: now });
    return this.#wait(tokens, count);
  }

  /** Whether a token is there, without taking it: 0, or the milliseconds until one is. */
  peek(key: string): number {
    return this.#wait(this.#tokens(key, this.now()));
  }

  #tokens(key: string, now: number): number {
    const bucket = this.#buckets.get(key);
    return bucket ? Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond) : this.capacity;
  }

  #wait(tokens: number, count = 1): number {
    return tokens >= count ? 0 : Math.ceil(((count - tokens) / this.perSecond) * 1000);
  }
}

/**
 * A token from the tenant's bucket (0, or the ms until there is one): shared by all instances
 * when Redis is there, this instance's own otherwise.
 */
export function tenantRate(
  rate: { perSecond: number; burst: number },
  shared: SharedLimits | undefined,
): (tenant: string) => Promise<number> {
  const tenants = new TokenBuckets(rate.perSecond, rate.burst);
  return async (tenant) => {
    if (shared) {
      try {
        return await shared.take(tenant, rate.perSecond, rate.burst);
      } catch {
        // Redis away: counted here alone until it is back.
      }
    }
    return tenants.take(tenant);
  };
}
