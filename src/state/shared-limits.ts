/**
 * Limits counted across every instance on one Redis: the request rate per tenant (a token bucket
 * in a Lua script), the subscriptions per tenant (each instance's count, while it is alive), and
 * the keys the supplier rejected. Each falls back to this instance's own count while Redis is
 * away, so a Redis outage never refuses an honest client.
 */
import type { RedisConnection } from './connection.ts';

/** KEYS: bucket. ARGV: per second, capacity, now ms. Resolves 0, or the ms until a token. */
const TAKE = `
local tokens = tonumber(redis.call('HGET', KEYS[1], 't') or ARGV[2])
local at = tonumber(redis.call('HGET', KEYS[1], 'a') or ARGV[3])
local rate = tonumber(ARGV[1])
tokens = math.min(tonumber(ARGV[2]), tokens + (tonumber(ARGV[3]) - at) / 1000 * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'a', ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / rate * 1000) + 1000)
return wait`;

/**
 * KEYS: the tenant's counts (a hash of instance -> count). ARGV: this instance, limit, the
 * instance-alive key prefix. Counts of instances no longer alive are dropped.
 */
const ACQUIRE = `
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then total = total + tonumber(fields[i + 1])
  else redis.call('HDEL', KEYS[1], fields[i]) end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return 1`;

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

  /** A token from the tenant's bucket: 0, or the ms until there is one. */
  async take(tenant: string, perSecond: number, capacity: number): Promise<number> {
    const wait = await this.redis.run((client) =>
      client.eval(TAKE, { keys: [`${this.redis.prefix}rate:${tenant}`], arguments: [String(perSecond), String(capacity), String(Date.now())] }),
    );
    return Number(wait);
  }

  /** One subscription more for the tenant, if all instances together hold fewer than `limit`. */
  async acquire(tenant: string, limit: number): Promise<boolean> {
    const taken = await this.redis.run((client) =>
      client.eval(ACQUIRE, { keys: [this.#counts(tenant)], arguments: [this.redis.instance, String(limit), this.#alive('')] }),
    );
    return taken === 1;
  }

  async release(tenant: string): Promise<void> {
    await this.redis.run((client) => client.hIncrBy(this.#counts(tenant), this.redis.instance, -1));
  }

  async rejected(digest: string): Promise<boolean> {
    return (await this.redis.run((client) => client.exists(this.#verdict(digest)))) === 1;
  }

  async reject(digest: string, ms: number): Promise<void> {
    await this.redis.run((client) => client.set(this.#verdict(digest), '1', { PX: ms }));
  }

  #alive(instance: string) {
    return `${this.redis.prefix}instance:${instance}`;
  }

  #counts(tenant: string) {
    return `${this.redis.prefix}subscriptions:${tenant}`;
  }

  #verdict(digest: string) {
    return `${this.redis.prefix}rejected-key:${digest}`;
  }
}
