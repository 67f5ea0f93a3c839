/**
 * The state store in Redis (REDIS_URL): idempotency records and the ledger survive restarts and
 * are shared by every instance on that Redis. Claims and their settlement are Lua scripts, so two
 * instances racing on one key cannot both win. Commands fail fast while Redis is away (no offline
 * queue, a short deadline): a mutation that cannot record is refused before it spends.
 *
 * The two writes made before a spend, the claim and the ledger entry, are undone when they miss
 * their deadline (connection.ts): the mutation was refused, so neither may take effect later.
 * The writes made after a spend are the truth and stay however late they land.
 */
import type { RedisClient, RedisConnection } from './connection.ts';
import {
  InvalidCursorError,
  OutcomeNotRecordedError,
  type IdempotencyRecord,
  type IdempotencyScope,
  type IdempotencyStore,
  type Ledger,
  type LedgerPage,
  type Outcome,
  type Placement,
  type PlacementKind,
  type SpendCounter,
  type StatePolicy,
  type StateStore,
} from './store.ts';

const DAY_MS = 86_400_000;

/** KEYS: record, caller index. ARGV: record, ttl ms, now ms, max per caller, index member, record key prefix. */
const CLAIM = `
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[3]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do redis.call('DEL', ARGV[6] .. member) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
return false`;

/** Shared head of the scripts that act only on a pending claim of their own. KEYS: record. ARGV[1]: claim. */
const OWN_PENDING = `
local existing = redis.call('GET', KEYS[1])
if not existing then return false end
local record = cjson.decode(existing)
if record.state ~= 'pending' or record.claim ~= ARGV[1] then return existing end
`;

/**
 * KEYS: record, caller index. ARGV: claim, done record, ttl ms, now ms, index member. Writes over
 * the claim while it is pending, or where it is gone (a Redis restart without persistence lost
 * it): the outcome is the truth. Resolves what is there now.
 */
const SETTLE = `
local existing = redis.call('GET', KEYS[1])
if existing then
  local record = cjson.decode(existing)
  if record.state ~= 'pending' or record.claim ~= ARGV[1] then return existing end
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]`;

/** KEYS: record, caller index. ARGV: claim, index member. The index entry goes too: nothing is left behind. */
const RELEASE = `${OWN_PENDING}
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return false`;

/** ARGV: claim, done record, ttl ms, now ms. */
const ABANDON = `${OWN_PENDING}
if record.leaseUntil >= tonumber(ARGV[4]) then return existing end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]`;

const parse = (raw: unknown) => (typeof raw === 'string' ? (JSON.parse(raw) as IdempotencyRecord) : undefined);

class RedisIdempotency implements IdempotencyStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly policy: StatePolicy,
  ) {}

  async claim(scope: IdempotencyScope, fingerprint: string, claim: string, leaseMs: number) {
    const record: IdempotencyRecord = { state: 'pending', fingerprint, claim, leaseUntil: Date.now() + leaseMs };
    const args = [
      JSON.stringify(record),
      String(this.#ttlMs),
      String(Date.now()),
      String(this.policy.idempotencyMaxPerCaller),
      this.#member(scope),
      this.#callerPrefix(scope),
    ];
    const claimed = await this.redis.run(
      (client) => client.eval(CLAIM, { keys: [this.#key(scope), this.#index(scope)], arguments: args }),
      {
        undo: (client) => this.#release(client, scope, claim),
      },
    );
    return parse(claimed);
  }

  async settle(scope: IdempotencyScope, claim: string, fingerprint: string, outcome: Outcome) {
    const done = this.#done(fingerprint, outcome);
    const args = [claim, done, String(this.#ttlMs), String(Date.now()), this.#member(scope)];
    const now = await this.redis.persist((client) =>
      client.eval(SETTLE, { keys: [this.#key(scope), this.#index(scope)], arguments: args }),
    );
    if (now !== done) throw new OutcomeNotRecordedError();
  }

  async release(scope: IdempotencyScope, claim: string) {
    await this.redis.persist((client) => this.#release(client, scope, claim));
  }

  async abandon(scope: IdempotencyScope, claim: string, fingerprint: string, outcome: Outcome) {
    const args = [claim, this.#done(fingerprint, outcome), String(this.#ttlMs), String(Date.now())];
    return parse(await this.redis.run((client) => client.eval(ABANDON, { keys: [this.#key(scope)], arguments: args })));
  }

  async read(scope: IdempotencyScope) {
    return parse(await this.redis.run((client) => client.get(this.#key(scope))));
  }

  #release(client: RedisClient, scope: IdempotencyScope, claim: string) {
    return client.eval(RELEASE, { keys: [this.#key(scope), this.#index(scope)], arguments: [claim, this.#member(scope)] });
  }

  #done(fingerprint: string, outcome: Outcome) {
    return JSON.stringify({ state: 'done', fingerprint, outcome } satisfies IdempotencyRecord);
  }

  get #ttlMs() {
    return this.policy.idempotencyTtlSeconds * 1000;
  }

  #callerPrefix(scope: IdempotencyScope) {
    return `${this.prefix}idem:${scope.tenant}:${scope.caller}:`;
  }

  /** The caller's keys scored by the time of their claim, so that past the bound the oldest go first. */
  #index(scope: IdempotencyScope) {
    return `${this.#callerPrefix(scope)}#index`;
  }

  #member(scope: IdempotencyScope) {
    return `${scope.mutation}:${scope.key}`;
  }

  #key(scope: IdempotencyScope) {
    return this.#callerPrefix(scope) + this.#member(scope);
  }
}

class RedisLedger implements Ledger {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly policy: StatePolicy,
  ) {}

  async open(placement: Placement) {
    await this.redis.run((client) => this.#write(client, placement), { undo: (client) => this.#remove(client, placement) });
  }

  async put(placement: Placement) {
    await this.redis.persist((client) => this.#write(client, placement));
  }

  async remove(placement: Placement) {
    await this.redis.persist((client) => this.#remove(client, placement));
  }

  /** One MULTI, so that an undo sent after it follows all of it. */
  #write(client: RedisClient, placement: Placement) {
    const placedAt = Date.parse(placement.placedAt);
    const keepMs = Math.max(1, placedAt + this.#retentionMs - Date.now());
    const batch = client.multi();
    for (const caller of this.#callers(placement)) {
      const list = this.#list({ tenant: placement.tenant, caller }, placement.kind);
      batch
        .zAdd(list, { score: placedAt, value: placement.id })
        .zRemRangeByScore(list, '-inf', Date.now() - this.#retentionMs)
        .pExpire(list, this.#retentionMs);
    }
    batch.set(this.#entry(placement.id), JSON.stringify(placement), { expiration: { type: 'PX', value: keepMs } });
    if (placement.outcome === 'PLACED') {
      // The callers that may see it, one a line: its owner, then the backend that placed it for them.
      const owners = this.#callers(placement).join('\n');
      for (const id of placement.orderIds) {
        batch.set(this.#owner(placement.tenant, placement.kind, id), owners, { expiration: { type: 'PX', value: keepMs } });
        batch.set(this.#placementOf(placement.tenant, placement.kind, id), placement.id, { expiration: { type: 'PX', value: keepMs } });
      }
    }
    return batch.exec();
  }

  #callers(placement: Placement): string[] {
    return placement.placedBy ? [placement.caller, placement.placedBy] : [placement.caller];
  }

  #remove(client: RedisClient, placement: Placement) {
    const batch = client.multi();
    for (const caller of this.#callers(placement))
      batch.zRem(this.#list({ tenant: placement.tenant, caller }, placement.kind), placement.id);
    return batch.del(this.#entry(placement.id)).exec();
  }

  async page(owner: { tenant: string; caller: string }, kind: PlacementKind, first: number, after?: string): Promise<LedgerPage> {
    const list = this.#list(owner, kind);
    return this.redis.run(async (client) => {
      await client.zRemRangeByScore(list, '-inf', Date.now() - this.#retentionMs);
      let start = 0;
      if (after !== undefined) {
        const rank = await client.zRevRank(list, after);
        if (rank === null) throw new InvalidCursorError(after);
        start = rank + 1;
      }
      const [ids, totalCount] = await Promise.all([client.zRange(list, start, start + first, { REV: true }), client.zCard(list)]);
      const wanted = ids.slice(0, first);
      const raw = wanted.length > 0 ? await client.mGet(wanted.map((id) => this.#entry(id))) : [];
      const placements = raw.filter((entry): entry is string => typeof entry === 'string').map((entry) => JSON.parse(entry) as Placement);
      return { placements, hasNextPage: ids.length > first, totalCount };
    });
  }

  async owners(tenant: string, kind: PlacementKind, ids: readonly string[]) {
    if (ids.length === 0) return [];
    const found = await this.redis.run((client) => client.mGet(ids.map((id) => this.#owner(tenant, kind, id))));
    return found.map((owners) => (typeof owners === 'string' ? owners.split('\n') : undefined));
  }

  /** Two reads: each id's placement, then the entries. An entry written before `placed:` keys existed is not found. */
  async placementsOf(tenant: string, kind: PlacementKind, ids: readonly string[]) {
    if (ids.length === 0) return [];
    return this.redis.run(async (client) => {
      const placementIds = await client.mGet(ids.map((id) => this.#placementOf(tenant, kind, id)));
      const wanted = placementIds.filter((id): id is string => typeof id === 'string');
      const entries = wanted.length > 0 ? await client.mGet(wanted.map((id) => this.#entry(id))) : [];
      const byId = new Map<string, Placement>();
      for (const entry of entries) {
        if (typeof entry !== 'string') continue;
        const placement = JSON.parse(entry) as Placement;
        byId.set(placement.id, placement);
      }
      return placementIds.map((id) => (typeof id === 'string' ? byId.get(id) : undefined));
    });
  }

  get #retentionMs() {
    return this.policy.ledgerRetentionDays * DAY_MS;
  }

  #list(owner: { tenant: string; caller: string }, kind: PlacementKind) {
    return `${this.prefix}ledger:${owner.tenant}:${owner.caller}:${kind}`;
  }

  #entry(id: string) {
    return `${this.prefix}placement:${id}`;
  }

  #owner(tenant: string, kind: PlacementKind, id: string) {
    return `${this.prefix}owner:${tenant}:${kind}:${id}`;
  }

  #placementOf(tenant: string, kind: PlacementKind, id: string) {
    return `${this.prefix}placed:${tenant}:${kind}:${id}`;
  }
}

/**
 * KEYS: the caller's day. ARGV: amount, limit, seconds to keep. Adds the amount unless the sum
 * would pass the limit (whole numbers under 2^53, exact in Lua's doubles): { reserved, spent }.
 * The sum goes back as Redis's own text or integer, never through Lua's tostring, which writes
 * numbers of 15 digits and more as 1.2e+14.
 */
const RESERVE = `
local spent = redis.call('GET', KEYS[1]) or '0'
if tonumber(spent) + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return { 0, spent } end
local now = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return { 1, now }`;

/** A day's count is kept two days: long enough for any clock it is read by. */
const SPEND_KEEP_S = 2 * 86_400;

class RedisSpends implements SpendCounter {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  async reserve(tenant: string, caller: string, day: string, amount: bigint, limit: bigint) {
    const key = this.#key(tenant, caller, day);
    const [reserved, spent] = (await this.redis.run((client) =>
      client.eval(RESERVE, { keys: [key], arguments: [amount.toString(), limit.toString(), String(SPEND_KEEP_S)] }),
    )) as [number, string | number];
    return { reserved: reserved === 1, spent: BigInt(spent) };
  }

  /** Written however late it lands (persist): a give-back lost would count money never spent. */
  async adjust(tenant: string, caller: string, day: string, delta: bigint) {
    const key = this.#key(tenant, caller, day);
    await this.redis.persist((client) => client.multi().incrBy(key, Number(delta)).expire(key, SPEND_KEEP_S).exec());
  }

  async spent(tenant: string, caller: string, day: string) {
    const value = await this.redis.run((client) => client.get(this.#key(tenant, caller, day)));
    return BigInt(value ?? '0');
  }

  #key(tenant: string, caller: string, day: string) {
    return `${this.prefix}spend:${tenant}:${caller}:${day}`;
  }
}

export function createRedisStore(redis: RedisConnection, policy: StatePolicy): StateStore {
  return {
    kind: 'redis',
    idempotency: new RedisIdempotency(redis, redis.prefix, policy),
    ledger: new RedisLedger(redis, redis.prefix, policy),
    spends: new RedisSpends(redis, redis.prefix),
    get ready() {
      return redis.ready;
    },
    get slow() {
      return redis.slow;
    },
    close: () => redis.close(),
  };
}
