/**
 * The event log in Redis (REDIS_URL), shared by every instance. Per tenant and kind: a ZSET of
 * the followed ids scored by their next poll (`follow:due:`), a hash of the claims holding ids
 * (`follow:claim:`, id -> token, the fence) and one of what each followed id belongs to
 * (`follow:item:`); per id its recorded state (`recorded:`, a hash). Per tenant and caller a feed,
 * a ZSET of event JSON scored by the tenant's sequence (`events:feed:`); the outbox is a ZSET of
 * event ids scored by when each may be taken (`events:outbox`) beside their JSON (`events:outbox:entries`).
 * Claiming and applying are Lua scripts: two instances never hold one id, and a late claim records nothing.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../state/connection.ts';
import type { Claim, ClaimAsked, EventLog, EventPolicy, Followed, Recorded, Step } from './store.ts';
import type { FollowedKind, Outbox, RecordedEvent } from './types.ts';

/**
 * KEYS: due, claims, items. ARGV: now, lease until, token, max, recorded-key prefix, fill. The
 * due ids, then (fill: '1') the free ids due soonest to fill `max`, each re-scored to the lease's
 * end under the token.
 * Resolves { due, then per id: id, item, version, state, at, round }.
 */
const CLAIM = `
local now, max = tonumber(ARGV[1]), tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max)
local due = #ids
if due == 0 then return { 0 } end
if due < max and ARGV[6] == '1' then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf', 'LIMIT', 0, max)) do
    if #ids >= max then break end
    if redis.call('HEXISTS', KEYS[2], id) == 0 then ids[#ids + 1] = id end
  end
end
local reply = { due }
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[2], id)
  redis.call('HSET', KEYS[2], id, ARGV[3])
  local recorded = redis.call('HMGET', ARGV[5] .. id, 'version', 'state', 'at', 'round')
  reply[#reply + 1] = id
  reply[#reply + 1] = redis.call('HGET', KEYS[3], id) or false
  for i = 1, 4 do reply[#reply + 1] = recorded[i] or false end
end
return reply`;

/**
 * KEYS: due, claims, items, sequence, outbox, outbox entries. ARGV: token, now, retention ms,
 * recorded-key prefix, feed-key prefix, steps (JSON). Each step only while the id's claim is the
 * token; its state only one version after the stored one (a step applied twice records once).
 */
const APPLY = `
local now, keep = tonumber(ARGV[2]), tonumber(ARGV[3])
local applied = 0
for _, step in ipairs(cjson.decode(ARGV[6])) do
  if redis.call('HGET', KEYS[2], step.id) == ARGV[1] then
    redis.call('HDEL', KEYS[2], step.id)
    local record = step.record
    local key = ARGV[4] .. step.id
    if type(record) == 'table' and tonumber(redis.call('HGET', key, 'version') or '0') + 1 == record.version then
      redis.call('HSET', key, 'version', record.version, 'state', record.state, 'at', record.at, 'round', string.format('%d', record.round))
      redis.call('PEXPIRE', key, keep)
      if type(step.event) == 'string' then
        local seq = math.max(tonumber(redis.call('GET', KEYS[4]) or '0') + 1, now)
        redis.call('SET', KEYS[4], string.format('%d', seq))
        for _, caller in ipairs(step.callers) do
          local feed = ARGV[5] .. caller
          redis.call('ZADD', feed, string.format('%d', seq), step.event)
          redis.call('ZREMRANGEBYSCORE', feed, '-inf', string.format('%d', now - keep))
          redis.call('PEXPIRE', feed, keep)
        end
        redis.call('ZADD', KEYS[5], string.format('%d', now), step.eventId)
        redis.call('HSET', KEYS[6], step.eventId, step.event)
      end
    end
    if step.next == cjson.null then
      redis.call('ZREM', KEYS[1], step.id)
      redis.call('HDEL', KEYS[3], step.id)
    else
      redis.call('ZADD', KEYS[1], string.format('%d', step.next), step.id)
    end
    applied = applied + 1
  end
end
return applied`;

/**
 * KEYS: outbox, entries. ARGV: now, lease ms, max, retention ms. Entries past the retention go
 * (nothing took them in time); then up to `max` takeable ones, oldest first, each leased.
 */
const TAKE = `
local now = tonumber(ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[4]), 'LIMIT', 0, 1000)) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
local reply = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))) do
  local event = redis.call('HGET', KEYS[2], id)
  if event then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    reply[#reply + 1] = event
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return reply`;

class RedisOutbox implements Outbox {
  constructor(
    private readonly redis: RedisConnection,
    private readonly policy: EventPolicy,
  ) {}

  async take(max: number, leaseMs: number) {
    const args = [String(Date.now()), String(leaseMs), String(max), String(this.policy.retentionMs)];
    const taken = (await this.redis.run((client) => client.eval(TAKE, { keys: this.#keys, arguments: args }))) as string[];
    return taken.map((text) => {
      const event = JSON.parse(text) as RecordedEvent;
      return { event, receipt: event.id };
    });
  }

  async done(receipt: string) {
    const [outbox, entries] = this.#keys;
    await this.redis.run((client) => client.multi().zRem(outbox!, receipt).hDel(entries!, receipt).exec());
  }

  get #keys() {
    return [`${this.redis.prefix}events:outbox`, `${this.redis.prefix}events:outbox:entries`];
  }
}

type Reply = Array<string | number | null>;

export class RedisEventLog implements EventLog {
  readonly kind = 'redis';
  readonly outbox: RedisOutbox;

  constructor(
    private readonly redis: RedisConnection,
    private readonly policy: EventPolicy,
  ) {
    this.outbox = new RedisOutbox(redis, policy);
  }

  /** Written however late it lands: an id not followed is never followed. */
  async follow(tenant: string, kind: FollowedKind, followed: Followed[], at: number) {
    const [due, , items] = this.#followKeys(tenant, kind);
    await this.redis.persist((client) => {
      const batch = client.multi();
      for (const each of followed)
        batch.zAdd(due!, { score: at, value: each.id }, { condition: 'NX' }).hSet(items!, each.id, JSON.stringify(each));
      return batch.exec();
    });
  }

  async claim(tenant: string, kind: FollowedKind, { max, now, leaseUntil, fill }: ClaimAsked): Promise<Claim | undefined> {
    const token = randomUUID();
    const args = [String(now), String(leaseUntil), token, String(max), this.#recordedPrefix(tenant, kind), fill ? '1' : '0'];
    const reply = (await this.redis.run((client) =>
      client.eval(CLAIM, { keys: this.#followKeys(tenant, kind), arguments: args }),
    )) as Reply;
    const due = Number(reply[0]);
    if (due === 0) return undefined;
    const ids: Claim['ids'] = [];
    for (let at = 1; at < reply.length; at += 6) {
      const [id, item, version, state, seen, round] = reply.slice(at, at + 6) as Array<string | null>;
      const followed: Followed = item ? (JSON.parse(item) as Followed) : { id: id!, callers: [] };
      const recorded: Recorded | undefined =
        version === null ? undefined : { version: Number(version), state: state!, at: seen!, round: Number(round) };
      ids.push({ followed, recorded });
    }
    return { token, due, ids };
  }

  async apply(tenant: string, kind: FollowedKind, claim: Claim, steps: Step[]) {
    const wire = steps.map((step) => ({
      id: step.id,
      next: step.next,
      record: step.record,
      event: step.event && JSON.stringify(step.event),
      eventId: step.event?.id,
      callers: step.event?.callers,
    }));
    const prefix = this.redis.prefix;
    const keys = [
      ...this.#followKeys(tenant, kind),
      `${prefix}events:seq:${tenant}`,
      `${prefix}events:outbox`,
      `${prefix}events:outbox:entries`,
    ];
    const args = [
      claim.token,
      String(Date.now()),
      String(this.policy.retentionMs),
      this.#recordedPrefix(tenant, kind),
      this.#feedPrefix(tenant),
      JSON.stringify(wire),
    ];
    return Number(await this.redis.run((client) => client.eval(APPLY, { keys, arguments: args })));
  }

  async feed(tenant: string, caller: string, after: number | undefined, first: number) {
    const from = Math.max(after ?? -Infinity, Date.now() - this.policy.retentionMs);
    const found = await this.redis.run((client) =>
      client.zRangeByScoreWithScores(this.#feedPrefix(tenant) + caller, `(${from}`, '+inf', { LIMIT: { offset: 0, count: first + 1 } }),
    );
    const entries = found.slice(0, first).map(({ value, score }) => ({ seq: score, event: JSON.parse(value) as RecordedEvent }));
    return { entries, hasNextPage: found.length > first };
  }

  async recorded(tenant: string, kind: FollowedKind, ids: readonly string[]) {
    if (ids.length === 0) return [];
    const prefix = this.#recordedPrefix(tenant, kind);
    const found = await this.redis.run((client) =>
      Promise.all(ids.map((id) => client.hmGet(prefix + id, ['version', 'state', 'at', 'round']))),
    );
    return found.map(([version, state, at, round]): Recorded | undefined =>
      version == null ? undefined : { version: Number(version), state: String(state), at: String(at), round: Number(round) },
    );
  }

  #followKeys(tenant: string, kind: FollowedKind): string[] {
    const prefix = this.redis.prefix;
    return [`${prefix}follow:due:${tenant}:${kind}`, `${prefix}follow:claim:${tenant}:${kind}`, `${prefix}follow:item:${tenant}:${kind}`];
  }

  #recordedPrefix(tenant: string, kind: FollowedKind) {
    return `${this.redis.prefix}recorded:${tenant}:${kind}:`;
  }

  #feedPrefix(tenant: string) {
    return `${this.redis.prefix}events:feed:${tenant}:`;
  }
}
