/**
 * The state store in Redis (REDIS_URL): idempotency records and the ledger survive restarts and
 * are shared by every instance on that Redis. Claims and their settlement are Lua scripts, so two
 * instances racing on one key cannot both win. Commands fail fast while Redis is away (no offline
 * queue, a short deadline): a mutation that cannot record is refused before it spends.
 */
import type { RedisConnection } from './connection.ts';
import {
  type IdempotencyRecord,
  type IdempotencyScope,
  type IdempotencyStore,
  InvalidCursorError,
  type Ledger,
  type LedgerPage,
  type Outcome,
  type Placement,
  type PlacementKind,
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

/** ARGV: claim, done record, ttl ms. */
const SETTLE = `${OWN_PENDING}
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return ARGV[2]`;

/** ARGV: claim. */
const RELEASE = `${OWN_PENDING}
redis.call('DEL', KEYS[1])
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
    const args = [JSON.stringify(record), String(this.#ttlMs), String(Date.now()), String(this.policy.idempotencyMaxPerCaller), this.#member(scope), this.#callerPrefix(scope)];
    return parse(await this.redis.run((client) => client.eval(CLAIM, { keys: [this.#key(scope), `${this.#callerPrefix(scope)}#index`], arguments: args })));
  }

  async settle(scope: IdempotencyScope, claim: string, outcome: Outcome) {
    await this.#script(SETTLE, scope, claim, outcome);
  }

  async release(scope: IdempotencyScope, claim: string) {
    await this.redis.run((client) => client.eval(RELEASE, { keys: [this.#key(scope)], arguments: [claim] }));
  }

  abandon(scope: IdempotencyScope, claim: string, outcome: Outcome) {
    return this.#script(ABANDON, scope, claim, outcome);
  }

  async read(scope: IdempotencyScope) {
    return parse(await this.redis.run((client) => client.get(this.#key(scope))));
  }

  async #script(script: string, scope: IdempotencyScope, claim: string, outcome: Outcome) {
    const pending = await this.read(scope);
    if (pending?.state !== 'pending') return pending;
    const done = JSON.stringify({ state: 'done', fingerprint: pending.fingerprint, outcome } satisfies IdempotencyRecord);
    const args = [claim, done, String(this.#ttlMs), String(Date.now())];
    return parse(await this.redis.run((client) => client.eval(script, { keys: [this.#key(scope)], arguments: args })));
  }

  get #ttlMs() {
    return this.policy.idempotencyTtlSeconds * 1000;
  }

  #callerPrefix(scope: IdempotencyScope) {
    return `${this.prefix}idem:${scope.tenant}:${scope.caller}:`;
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

  async put(placement: Placement) {
    const placedAt = Date.parse(placement.placedAt);
    const keepMs = Math.max(1, placedAt + this.#retentionMs - Date.now());
    const list = this.#list(placement, placement.kind);
    await this.redis.run(async (client) => {
      const batch = client
        .multi()
        .zAdd(list, { score: placedAt, value: placement.id })
        .zRemRangeByScore(list, '-inf', Date.now() - this.#retentionMs)
        .pExpire(list, this.#retentionMs)
        .set(this.#entry(placement.id), JSON.stringify(placement), { expiration: { type: 'PX', value: keepMs } });
      if (placement.outcome === 'PLACED') {
        for (const id of placement.orderIds) {
          batch.set(this.#owner(placement.tenant, placement.kind, id), placement.caller, { expiration: { type: 'PX', value: keepMs } });
        }
      }
      await batch.exec();
    });
  }

  async remove(placement: Placement) {
    await this.redis.run((client) => client.multi().zRem(this.#list(placement, placement.kind), placement.id).del(this.#entry(placement.id)).exec());
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
    return found.map((caller) => (typeof caller === 'string' ? caller : undefined));
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
}

export function createRedisStore(redis: RedisConnection, policy: StatePolicy): StateStore {
  return {
    kind: 'redis',
    idempotency: new RedisIdempotency(redis, redis.prefix, policy),
    ledger: new RedisLedger(redis, redis.prefix, policy),
    get ready() {
      return redis.ready;
    },
    close: () => redis.close(),
  };
}
