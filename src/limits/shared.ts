/**
 * Limits counted across every instance on one Redis: the request rate per tenant (a token bucket
 * in a Lua script), the subscriptions per tenant (each instance's count, while it is alive), and
 * the keys the supplier rejected. Each falls back to this instance's own count while Redis is
 * away or slow, so a Redis outage never refuses an honest client, and a slow Redis makes no
 * request wait for it past the one command that found it slow.
 */
import type { RedisConnection } from '../state/connection.ts';

/**
 * KEYS: bucket. ARGV: per second, capacity, now ms, tokens wanted. Takes as many whole tokens as
 * are there, up to the number wanted: resolves to { taken, ms until a token when none was }.
 */
const TAKE = `
local tokens = tonumber(redis.call('HGET', KEYS[1], 't') or ARGV[2])
local at = tonumber(redis.call('HGET', KEYS[1], 'a') or ARGV[3])
local rate = tonumber(ARGV[1])
tokens = math.min(tonumber(ARGV[2]), tokens + (tonumber(ARGV[3]) - at) / 1000 * rate)
local taken = math.min(tonumber(ARGV[4]), math.floor(tokens))
local wait = 0
if taken >= 1 then tokens = tokens - taken else taken = 0; wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / rate * 1000) + 1000)
return { taken, wait }`;

/**
 * Most tokens an instance takes from Redis at once: a tenth of a second of the tenant's rate, from
 * 1 to 100. At 50 requests a second that is 5, so a busy instance asks Redis once per five
 * requests, and no instance holds more than a tenth of a second's worth that another could have
 * used. Batches start at one token and double while each is spent before it lapses.
 */
const batchOf = (perSecond: number) => Math.max(1, Math.min(100, Math.floor(perSecond / 10)));

/** How long tokens taken in a batch may be spent here; unspent ones then lapse. */
const BATCH_MS = 1000;

/** Tenants whose batches are remembered at once. */
const MAX_HELD = 10_000;

/**
 * KEYS: the tenant's counts (a hash of instance -> count). ARGV: this instance, limit, the
 * instance-alive key prefix, places wanted. Counts of instances no longer alive are dropped.
 * Resolves to the places granted: as many as wanted, or what is left under the limit.
 */
const ACQUIRE = `
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then total = total + tonumber(fields[i + 1])
  else redis.call('HDEL', KEYS[1], fields[i]) end
end
local granted = math.min(tonumber(ARGV[4]), tonumber(ARGV[2]) - total)
if granted <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], granted)
return granted`;

/** A tenant's places in this instance: spare ones, and subscribers waiting for the next block. */
interface Places {
  free: number;
  /** Places handed out here and not given back yet. */
  out: number;
  block: number;
  waiting: Array<{ resolve: (granted: boolean) => void; reject: (error: unknown) => void }>;
  taking: boolean;
}

/** How long an instance counts as alive after its last heartbeat, and how often it beats. */
const ALIVE_MS = 30_000;
const BEAT_MS = 10_000;

export class SharedLimits {
  #beat?: NodeJS.Timeout;

  constructor(private readonly redis: RedisConnection) {}

  /** Keeps this instance's subscription counts alive until stop(). */
  start(): void {
    const beat = () =>
      void this.redis.run((client) => client.set(this.#alive(this.redis.instance), '1', { PX: ALIVE_MS })).catch(() => undefined);
    beat();
    this.#beat = setInterval(beat, BEAT_MS).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#beat);
    await this.redis.run((client) => client.del(this.#alive(this.redis.instance))).catch(() => undefined);
  }

  /** Tokens this instance took from each tenant's bucket in a batch and has not spent yet. */
  readonly #held = new Map<string, { tokens: number; until: number; size: number; taking?: Promise<number> }>();

  /**
   * A token from the tenant's bucket: 0, or the ms until there is one. Spent from this instance's
   * batch while it lasts; requests that arrive while a batch is being taken share that one call.
   */
  async take(tenant: string, perSecond: number, capacity: number): Promise<number> {
    for (;;) {
      const held = this.#held.get(tenant);
      if (held && held.tokens >= 1 && Date.now() < held.until) {
        held.tokens -= 1;
        return 0;
      }
      if (!held?.taking) break;
      const wait = await held.taking;
      if (wait > 0) return wait;
    }
    // Slow start: one token for a tenant this instance seldom serves, so spread-out light traffic
    // wastes nothing; twice the last batch when that one was spent before it lapsed.
    const previous = this.#held.get(tenant);
    const busy = previous !== undefined && previous.tokens < 1 && Date.now() < previous.until;
    const size = busy ? Math.min(batchOf(perSecond), previous.size * 2) : 1;
    const entry = { tokens: 0, until: 0, size, taking: undefined as Promise<number> | undefined };
    this.#held.set(tenant, entry);
    entry.taking = this.#takeBatch(tenant, perSecond, capacity, size).then(
      ([taken, wait]) => {
        Object.assign(entry, { tokens: taken, until: Date.now() + BATCH_MS, taking: undefined });
        return wait;
      },
      (error: unknown) => {
        this.#held.delete(tenant);
        throw error;
      },
    );
    const wait = await entry.taking;
    if (wait > 0 || entry.tokens < 1) return wait;
    entry.tokens -= 1;
    return 0;
  }

  async #takeBatch(tenant: string, perSecond: number, capacity: number, wanted: number): Promise<[number, number]> {
    const [taken, wait] = (await this.redis.run(
      (client) =>
        client.eval(TAKE, {
          keys: [`${this.redis.prefix}rate:${tenant}`],
          arguments: [String(perSecond), String(capacity), String(Date.now()), String(wanted)],
        }),
      { skipWhileSlow: true },
    )) as [number, number];
    if (this.#held.size > MAX_HELD) this.#held.clear(); // a flood of tenants: batches lapse early, never unbounded
    return [Number(taken), Number(wait)];
  }

  /** Subscription places this instance took from each tenant's count and has not handed out. */
  readonly #places = new Map<string, Places>();

  /**
   * One subscription more for the tenant, if all instances together hold fewer than `limit`.
   * Places are taken from Redis a block at a time (a hundredth of the limit, so one for any limit
   * under 200, where the count stays exact) and handed out here in the order they were asked for;
   * the next block is asked for while half of one is still spare, so that a burst of subscribers
   * seldom waits for Redis. Thousands of subscribers joining and leaving a second cost a few
   * Redis calls; an instance holds fewer than two blocks it does not use (2% of the limit per
   * instance), and none for a tenant once none of its places is handed out here.
   */
  acquire(tenant: string, limit: number): Promise<boolean> {
    let pool = this.#places.get(tenant);
    if (!pool)
      this.#places.set(tenant, (pool = { free: 0, out: 0, block: Math.max(1, Math.floor(limit / 100)), waiting: [], taking: false }));
    if (pool.free > 0 && pool.waiting.length === 0) {
      pool.free -= 1;
      pool.out += 1;
      if (pool.block > 1 && pool.free < pool.block / 2) this.#fill(tenant, limit, pool);
      return Promise.resolve(true);
    }
    const asked = new Promise<boolean>((resolve, reject) => pool.waiting.push({ resolve, reject }));
    this.#fill(tenant, limit, pool);
    return asked;
  }

  /** One Redis call at a time per tenant, for the places the waiting subscribers need, or a block ahead. */
  #fill(tenant: string, limit: number, pool: Places): void {
    if (pool.taking) return;
    pool.taking = true;
    this.#takeBlock(tenant, limit, Math.max(pool.block, pool.waiting.length - pool.free)).then(
      (granted) => {
        pool.taking = false;
        pool.free += granted;
        const served = pool.waiting.splice(0, Math.min(pool.free, pool.waiting.length));
        pool.free -= served.length;
        pool.out += served.length;
        for (const waiter of served) waiter.resolve(true);
        // Nothing granted: the limit is reached for every subscriber still waiting.
        if (granted === 0) for (const waiter of pool.waiting.splice(0)) waiter.resolve(false);
        if (pool.waiting.length > 0) this.#fill(tenant, limit, pool);
      },
      (error: unknown) => {
        pool.taking = false;
        for (const waiter of pool.waiting.splice(0)) waiter.reject(error);
      },
    );
  }

  /**
   * A place back: kept for the next subscriber, and a block given back to Redis past two spare;
   * every spare one once none is handed out here. A block of one (a limit under 200) keeps no
   * spare, so the count across instances stays exact.
   */
  async release(tenant: string): Promise<void> {
    const pool = this.#places.get(tenant);
    if (!pool) return this.#giveBack(tenant, 1);
    pool.out -= 1;
    pool.free += 1;
    let giving = pool.block === 1 ? pool.free : pool.free >= 2 * pool.block ? pool.block : 0;
    if (pool.out <= 0 && !pool.taking && pool.waiting.length === 0) {
      giving = pool.free;
      this.#places.delete(tenant);
    }
    if (giving === 0) return;
    pool.free -= giving;
    await this.#giveBack(tenant, giving);
  }

  async #takeBlock(tenant: string, limit: number, wanted: number): Promise<number> {
    const granted = await this.redis.run(
      (client) =>
        client.eval(ACQUIRE, {
          keys: [this.#counts(tenant)],
          arguments: [this.redis.instance, String(limit), this.#alive(''), String(wanted)],
        }),
      { skipWhileSlow: true },
    );
    return Number(granted);
  }

  /**
   * Not skipped while Redis is slow: places taken in Redis are given back there. Places that could
   * not be given back stay spare here, to be handed out or given back later, rather than lost.
   */
  async #giveBack(tenant: string, count: number): Promise<void> {
    try {
      await this.redis.run((client) => client.hIncrBy(this.#counts(tenant), this.redis.instance, -count));
    } catch (error) {
      let pool = this.#places.get(tenant);
      if (!pool) this.#places.set(tenant, (pool = { free: 0, out: 0, block: count, waiting: [], taking: false }));
      pool.free += count;
      throw error;
    }
  }

  async rejected(digest: string): Promise<boolean> {
    return (await this.redis.run((client) => client.exists(this.#rejected(digest)), { skipWhileSlow: true })) === 1;
  }

  async reject(digest: string, ms: number): Promise<void> {
    await this.redis.run((client) => client.set(this.#rejected(digest), '1', { PX: ms }), { skipWhileSlow: true });
  }

  #alive(instance: string) {
    return `${this.redis.prefix}instance:${instance}`;
  }

  #counts(tenant: string) {
    return `${this.redis.prefix}subscriptions:${tenant}`;
  }

  #rejected(digest: string) {
    return `${this.redis.prefix}rejected-key:${digest}`;
  }
}
