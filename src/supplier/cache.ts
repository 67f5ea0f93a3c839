/**
 * The shared cache of supplier reads, keyed by tenant + action + params so one tenant never sees
 * another's answers. lru-cache's `fetch()` joins concurrent misses onto one upstream call.
 */
import { LRUCache } from 'lru-cache';
import { isGatewayError } from '../errors.ts';
import { loadShared, type SharedCache } from './shared-cache.ts';

export interface CacheRead<T> {
  value: T;
  /** Fresh from the cache, loaded from the supplier, or served past its TTL because the supplier failed. */
  result: 'hit' | 'miss' | 'stale';
  /** Seconds since the supplier gave this value, when it is served past its TTL because the supplier failed. */
  staleSeconds?: number;
}

/** The interface the gateway needs, so a shared backend can replace the in-process one. */
export interface ReadCache {
  read<T extends object>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<CacheRead<T>>;
  /** Deletes here at once, and resolves once every instance has been told (with Redis). */
  delete(key: string): Promise<void>;
  readonly size: number;
}

export interface ReadCacheOptions {
  maxEntries: number;
  maxBytes: number;
  /** How long past its TTL an entry may still be served while the supplier fails. */
  staleMaxSeconds: number;
  /** Entries shared with other instances (Redis); this cache is then their copy in this process. */
  shared?: SharedCache;
  /** How long an instance waits for another's load before loading itself. */
  sharedWaitMs?: number;
  now?: () => number;
}

interface Entry {
  value: object;
  fetchedAt: number;
  bytes: number;
  /** Loaded by another instance: no supplier call here. */
  fromShared: boolean;
}

interface FetchContext {
  load: () => Promise<object>;
  ttlMs: number;
}

export class LruReadCache implements ReadCache {
  readonly #lru: LRUCache<string, Entry, FetchContext>;
  readonly #staleMaxMs: number;
  readonly #now: () => number;
  readonly #shared?: SharedCache;

  constructor(options: ReadCacheOptions) {
    this.#staleMaxMs = options.staleMaxSeconds * 1000;
    this.#now = options.now ?? Date.now;
    this.#lru = new LRUCache<string, Entry, FetchContext>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // The key counts too: it carries the caller's filter, which the caller chooses.
      sizeCalculation: (entry, key) => entry.bytes + key.length,
      // Freshness is decided here, per read; the LRU only keeps an entry as long as it may serve stale.
      ttlAutopurge: false,
      noDeleteOnFetchRejection: true,
      allowStaleOnFetchRejection: false,
      fetchMethod: async (key, _old, { context }) => {
        const loaded = options.shared
          ? await loadShared(
              options.shared,
              key,
              { ttlMs: context.ttlMs, keepMs: context.ttlMs + this.#staleMaxMs, waitMs: options.sharedWaitMs ?? 10_000, now: this.#now },
              context.load,
            )
          : { value: await context.load(), fetchedAt: this.#now(), fromShared: false };
        return { ...loaded, bytes: Math.max(1, JSON.stringify(loaded.value).length) };
      },
    });
    options.shared?.onDelete((key) => this.#lru.delete(key));
    this.#shared = options.shared;
  }

  get size(): number {
    return this.#lru.size;
  }

  async read<T extends object>(key: string, ttlSeconds: number, load: () => Promise<T>): Promise<CacheRead<T>> {
    const ttlMs = ttlSeconds * 1000;
    const cached = this.#lru.peek(key);
    if (cached && this.#now() - cached.fetchedAt < ttlMs) return { value: cached.value as T, result: 'hit' };
    try {
      const entry = await this.#lru.fetch(key, {
        forceRefresh: true,
        ttl: ttlMs + this.#staleMaxMs || 1,
        context: { load, ttlMs },
      });
      if (!entry) throw new Error(`cache fetch for ${key} returned nothing`);
      return { value: entry.value as T, result: entry.fromShared ? 'hit' : 'miss' };
    } catch (error) {
      const old = this.#lru.peek(key) ?? cached;
      const age = old ? this.#now() - old.fetchedAt : Infinity;
      if (old && age <= ttlMs + this.#staleMaxMs && isGatewayError(error, 'UPSTREAM_UNAVAILABLE', 'RATE_LIMITED')) {
        return { value: old.value as T, result: 'stale', staleSeconds: Math.round(age / 1000) };
      }
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    this.#lru.delete(key);
    await this.#shared?.delete(key).catch(() => undefined);
  }
}
