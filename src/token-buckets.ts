/**
 * Token buckets: a request rate with bursts. Per tenant they may be shared by every instance
 * through Redis (state/shared-limits.ts); these are the ones in this process.
 */
import { LRUCache } from 'lru-cache';
import { bounded } from './lru.ts';
import type { SharedLimits } from './state/shared-limits.ts';

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

  /** Takes a token: 0 when there was one, else the milliseconds until there will be. */
  take(key: string): number {
    const bucket = this.#fill(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
  }

  /** Whether a token is there, without taking it: 0, or the milliseconds until one is. */
  peek(key: string): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.capacity, bucket.tokens + ((this.now() - bucket.at) / 1000) * this.perSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.perSecond) * 1000);
  }

  #fill(key: string) {
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    return bucket;
  }
}

/**
 * A token from the tenant's bucket (0, or the ms until there is one): shared by all instances
 * when Redis is there, this instance's own otherwise.
 */
export function tenantRate(rate: { perSecond: number; burst: number }, shared: SharedLimits | undefined): (tenant: string) => Promise<number> {
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

