/**
 * The catalogue shared by every instance on one Redis: N cold instances make one supplier call
 * per filter per TTL, not N. An entry is read from Redis when the in-process copy is missing or
 * past its TTL; the first instance to miss takes a short lock and loads, the others wait for its
 * entry. Deletions (stock after an order) reach every instance's copy through pub/sub. While
 * Redis is slow, each instance loads for itself, as while it is away.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisConnection } from '../state/connection.ts';

export interface SharedEntry {
  value: object;
  /** When the supplier gave the value (epoch ms). */
  fetchedAt: number;
}

/** What the in-process cache needs of a shared one. */
export interface SharedCache {
  get(key: string): Promise<SharedEntry | undefined>;
  set(key: string, entry: SharedEntry, keepMs: number): Promise<void>;
  /** Whether this instance may load `key` now (nobody else is); the lock lapses after `ms`. */
  lock(key: string, ms: number): Promise<boolean>;
  unlock(key: string): Promise<void>;
  /** Whether `key` is still being loaded by another instance. */
  loading(key: string): Promise<boolean>;
  /** Deletes everywhere: in Redis and in every instance's copy. */
  delete(key: string): Promise<void>;
  onDelete(listener: (key: string) => void): void;
}

/** KEYS: the lock. ARGV: the instance. Deletes the lock only if the instance still holds it. */
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Subscribes to a channel for the life of the connection. With Redis away at start, it subscribes
 * when Redis comes back; node-redis keeps a subscription across later reconnects.
 */
export function listen(redis: RedisConnection, channel: string, listener: (message: string) => void): void {
  const subscribe = () => redis.subscribe(channel, listener).then(() => stop());
  const stop = redis.onReconnect(() => void subscribe().catch(() => undefined));
  void subscribe().catch(() => undefined);
}

/** How often an instance waiting for another's load looks for its entry. */
const WAIT_STEP_MS = 20;

export class RedisSharedCache implements SharedCache {
  readonly #listeners = new Set<(key: string) => void>();
  #subscribed = false;

  constructor(private readonly redis: RedisConnection) {}

  async get(key: string): Promise<SharedEntry | undefined> {
    const raw = await this.redis.run((client) => client.get(this.#key(key)), { skipWhileSlow: true });
    return typeof raw === 'string' ? (JSON.parse(raw) as SharedEntry) : undefined;
  }

  async set(key: string, entry: SharedEntry, keepMs: number): Promise<void> {
    await this.redis.run((client) => client.set(this.#key(key), JSON.stringify(entry), { PX: Math.max(1, Math.ceil(keepMs)) }), {
      skipWhileSlow: true,
    });
  }

  async lock(key: string, ms: number): Promise<boolean> {
    const taken = await this.redis.run((client) => client.set(this.#lock(key), this.redis.instance, { NX: true, PX: Math.ceil(ms) }), {
      skipWhileSlow: true,
    });
    return taken === 'OK';
  }

  /**
   * Only this instance's own lock: one whose load outlasted the lock must not free a successor's.
   * While Redis is slow the lock is left to lapse rather than waited on.
   */
  async unlock(key: string): Promise<void> {
    await this.redis.run((client) => client.eval(UNLOCK, { keys: [this.#lock(key)], arguments: [this.redis.instance] }), {
      skipWhileSlow: true,
    });
  }

  async delete(key: string): Promise<void> {
    await this.redis.run((client) => client.del(this.#key(key)));
    await this.redis.publish('cache:deleted', key);
  }

  onDelete(listener: (key: string) => void): void {
    this.#listeners.add(listener);
    if (this.#subscribed) return;
    this.#subscribed = true;
    listen(this.redis, 'cache:deleted', (key) => {
      for (const each of this.#listeners) each(key);
    });
  }

  async loading(key: string): Promise<boolean> {
    return (await this.redis.run((client) => client.exists(this.#lock(key)), { skipWhileSlow: true })) === 1;
  }

  #key(key: string) {
    return `${this.redis.prefix}cache:${key}`;
  }

  #lock(key: string) {
    return `${this.redis.prefix}cache-lock:${key}`;
  }
}

/**
 * Loads `key` once across instances: an entry fresh within `ttlMs` from Redis, or the value this
 * instance loads under the lock, or the one another instance loaded meanwhile. With Redis away,
 * or past `waitMs`, it loads by itself.
 */
export async function loadShared(
  shared: SharedCache,
  key: string,
  timing: { ttlMs: number; keepMs: number; waitMs: number; now: () => number },
  load: () => Promise<object>,
): Promise<SharedEntry & { fromShared: boolean }> {
  const { ttlMs, keepMs, waitMs, now } = timing;
  const fresh = (entry: SharedEntry | undefined): entry is SharedEntry => entry !== undefined && now() - entry.fetchedAt < ttlMs;
  const own = async () => {
    const entry = { value: await load(), fetchedAt: now() };
    await shared.set(key, entry, keepMs).catch(() => undefined);
    return { ...entry, fromShared: false };
  };
  let locked: boolean;
  try {
    const found = await shared.get(key);
    if (fresh(found)) return { ...found, fromShared: true };
    locked = await shared.lock(key, waitMs);
  } catch {
    return own(); // Redis away: every instance loads for itself, as without it
  }
  if (locked) {
    try {
      // Another instance may have loaded and unlocked between the read above and this lock.
      const loaded = await shared.get(key).catch(() => undefined);
      return fresh(loaded) ? { ...loaded, fromShared: true } : await own();
    } finally {
      await shared.unlock(key).catch(() => undefined);
    }
  }
  try {
    for (const giveUp = now() + waitMs; now() < giveUp;) {
      await sleep(WAIT_STEP_MS);
      // The lock is looked at before the entry: a loader writes its entry before unlocking, so
      // a lock seen released means the read after it sees the entry, if there is one.
      const busy = await shared.loading(key);
      const loaded = await shared.get(key);
      if (fresh(loaded)) return { ...loaded, fromShared: true };
      if (!busy) break;
    }
  } catch {
    // Redis went away while waiting: load here.
  }
  return own();
}
