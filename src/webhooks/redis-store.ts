/**
 * Webhook endpoints and deliveries in Redis (REDIS_URL): durable and shared by every instance.
 * Keys, under REDIS_KEY_PREFIX:
 *
 * - `wh:endpoint:<id>`: a hash, the endpoint (events, scopes and secrets as JSON fields);
 * - `wh:endpoints:<tenant>:<caller>`: a sorted set of the caller's endpoint ids by creation time;
 * - `wh:delivery:<id>`: a hash, the delivery, with `fence`, the number of its claims;
 * - `wh:deliveries:<endpoint id>`: a sorted set of the endpoint's delivery ids by creation time;
 * - `wh:due`: a sorted set of the deliveries waiting for an attempt, by when it is due.
 *
 * A claim (Lua) moves a due delivery's score a lease ahead and bumps its fence in one step, so two
 * instances never take the same attempt; a settle (Lua) writes only under the fence it was given.
 * Writes that follow an attempt use `persist`: an attempt made must be recorded.
 */
import type { EventType } from '../events/types.ts';
import type { RedisConnection } from '../state/connection.ts';
import {
  DELIVERY_RETENTION_MS,
  FAILING,
  GONE,
  UnknownCursorError,
  type AttemptRecord,
  type Claim,
  type DeliveryPage,
  type EndpointOutcome,
  type Owner,
  type Secret,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookStore,
} from './store.ts';

/** KEYS: delivery, endpoint's list, due. ARGV: created ms, oldest listed ms, then the fields. Leaves one already there alone. */
const ENQUEUE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[4])
return 1`;

/** KEYS: due. ARGV: now ms, max, lease ms, delivery key prefix. Returns each claimed delivery's fields. */
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local claimed = {}
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[3]), id)
    redis.call('HINCRBY', key, 'fence', 1)
    redis.call('HINCRBY', key, 'attempts', 1)
    table.insert(claimed, redis.call('HGETALL', key))
  end
end
return claimed`;

/** KEYS: delivery, due. ARGV: id, fence, next due ms ('' for none), keep ms ('' for ever), then the fields. */
const SETTLE = `
if redis.call('HGET', KEYS[1], 'fence') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if ARGV[3] == '' then redis.call('ZREM', KEYS[2], ARGV[1]) else redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
if ARGV[4] == '' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1`;

/** KEYS: delivery, due. ARGV: id, now ms. */
const REDELIVER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'fence', 1)
redis.call('HSET', KEYS[1], 'status', 'PENDING', 'attempts', 0, 'nextAttemptAt', ARGV[2])
redis.call('PERSIST', KEYS[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1`;

/** KEYS: endpoint. ARGV: outcome, now ms, disable after ms, the two reasons. */
const OUTCOME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == 'ok' then redis.call('HSET', KEYS[1], 'failingSince', '') return 1 end
local since = tonumber(redis.call('HGET', KEYS[1], 'failingSince'))
if not since then
  since = tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'failingSince', ARGV[2])
end
if redis.call('HGET', KEYS[1], 'enabled') ~= '1' then return 1 end
if ARGV[1] == 'gone' then
  redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', ARGV[4])
elseif tonumber(ARGV[2]) - since >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', ARGV[5])
end
return 1`;

const text = (value: string | number | null) => (value === null ? '' : String(value));
const numberOrNull = (value: string | undefined) => (value ? Number(value) : null);
/** Lua's cjson and hashes know no empty list from an empty object: lists are JSON fields read back here. */
const list = <T>(value: string | undefined): T[] => (value ? (JSON.parse(value) as T[]) : []);

function endpointFields(endpoint: WebhookEndpoint): Record<string, string> {
  return {
    id: endpoint.id,
    tenant: endpoint.tenant,
    caller: endpoint.caller,
    url: endpoint.url,
    events: JSON.stringify(endpoint.events),
    scopes: JSON.stringify(endpoint.scopes),
    secrets: JSON.stringify(endpoint.secrets),
    enabled: endpoint.enabled ? '1' : '0',
    disabledReason: text(endpoint.disabledReason),
    createdAt: endpoint.createdAt,
    failingSince: text(endpoint.failingSince),
  };
}

function endpointOf(fields: Record<string, string>): WebhookEndpoint | undefined {
  if (!fields.id) return undefined;
  return {
    id: fields.id,
    tenant: fields.tenant!,
    caller: fields.caller!,
    url: fields.url!,
    events: list<EventType>(fields.events),
    scopes: list<string>(fields.scopes),
    secrets: list<Secret>(fields.secrets),
    enabled: fields.enabled === '1',
    disabledReason: fields.disabledReason || null,
    createdAt: fields.createdAt!,
    failingSince: numberOrNull(fields.failingSince),
  };
}

function recordFields(record: AttemptRecord): string[] {
  return [
    'status',
    record.status,
    'lastStatusCode',
    text(record.lastStatusCode),
    'lastError',
    text(record.lastError),
    'nextAttemptAt',
    text(record.nextAttemptAt),
    'deliveredAt',
    text(record.deliveredAt),
  ];
}

function deliveryFields(delivery: WebhookDelivery): string[] {
  const { id, endpointId, tenant, caller, eventId, eventType, body, attempts, createdAt } = delivery;
  const fields = { id, endpointId, tenant, caller, eventId, eventType, body, attempts, createdAt, fence: 0 };
  return [...Object.entries(fields).flatMap(([name, value]) => [name, String(value)]), ...recordFields(delivery)];
}

function deliveryOf(fields: Record<string, string>): WebhookDelivery | undefined {
  if (!fields.id) return undefined;
  return {
    id: fields.id,
    endpointId: fields.endpointId!,
    tenant: fields.tenant!,
    caller: fields.caller!,
    eventId: fields.eventId!,
    eventType: fields.eventType as EventType,
    body: fields.body!,
    status: fields.status as WebhookDelivery['status'],
    attempts: Number(fields.attempts),
    lastStatusCode: numberOrNull(fields.lastStatusCode),
    lastError: fields.lastError || null,
    nextAttemptAt: numberOrNull(fields.nextAttemptAt),
    deliveredAt: numberOrNull(fields.deliveredAt),
    createdAt: Number(fields.createdAt),
  };
}

/** HGETALL as a script returns it: a flat list of names and values. */
function pairs(flat: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let index = 0; index < flat.length; index += 2) fields[flat[index]!] = flat[index + 1]!;
  return fields;
}

const owns = (owner: Owner, of: Owner | undefined) => of?.tenant === owner.tenant && of.caller === owner.caller;

export class RedisWebhookStore implements WebhookStore {
  constructor(private readonly redis: RedisConnection) {}

  async addEndpoint(endpoint: WebhookEndpoint) {
    await this.redis.run((client) =>
      client
        .multi()
        .hSet(this.#endpoint(endpoint.id), endpointFields(endpoint))
        .zAdd(this.#endpoints(endpoint), { score: Date.parse(endpoint.createdAt), value: endpoint.id })
        .exec(),
    );
  }

  async endpoint(owner: Owner, id: string) {
    const endpoint = await this.endpointById(id);
    return owns(owner, endpoint) ? endpoint : undefined;
  }

  async endpointById(id: string) {
    return endpointOf(await this.redis.run((client) => client.hGetAll(this.#endpoint(id))));
  }

  async endpoints(owner: Owner) {
    return this.redis.run(async (client) => {
      const ids = await client.zRange(this.#endpoints(owner), 0, -1);
      const found = await Promise.all(ids.map(async (id) => endpointOf(await client.hGetAll(this.#endpoint(id)))));
      return found.filter((endpoint): endpoint is WebhookEndpoint => owns(owner, endpoint));
    });
  }

  async deleteEndpoint(owner: Owner, id: string) {
    if (!(await this.endpoint(owner, id))) return false;
    await this.redis.run((client) =>
      client.multi().del(this.#endpoint(id)).zRem(this.#endpoints(owner), id).del(this.#deliveries(id)).exec(),
    );
    return true;
  }

  async setSecrets(id: string, secrets: Secret[]) {
    await this.redis.run((client) => client.hSet(this.#endpoint(id), 'secrets', JSON.stringify(secrets)));
  }

  async endpointOutcome(id: string, outcome: EndpointOutcome, now: number, disableAfterMs: number) {
    const args = [outcome, String(now), String(disableAfterMs), GONE, FAILING];
    await this.redis.persist((client) => client.eval(OUTCOME, { keys: [this.#endpoint(id)], arguments: args }));
  }

  async enqueue(deliveries: WebhookDelivery[]) {
    await Promise.all(
      deliveries.map((delivery) => {
        const keys = [this.#delivery(delivery.id), this.#deliveries(delivery.endpointId), this.#due];
        const args = [String(delivery.createdAt), String(delivery.createdAt - DELIVERY_RETENTION_MS), ...deliveryFields(delivery)];
        return this.redis.persist((client) => client.eval(ENQUEUE, { keys, arguments: args }));
      }),
    );
  }

  async claim(now: number, max: number, leaseMs: number): Promise<Claim[]> {
    const args = [String(now), String(max), String(leaseMs), `${this.redis.prefix}wh:delivery:`];
    const claimed = (await this.redis.run((client) => client.eval(CLAIM, { keys: [this.#due], arguments: args }))) as string[][];
    return claimed.map((flat) => {
      const fields = pairs(flat);
      return { delivery: deliveryOf(fields)!, fence: Number(fields.fence) };
    });
  }

  async settle(id: string, fence: number, record: AttemptRecord) {
    const keep = record.nextAttemptAt === null ? String(DELIVERY_RETENTION_MS) : '';
    const args = [id, String(fence), text(record.nextAttemptAt), keep, ...recordFields(record)];
    const settled = await this.redis.persist((client) => client.eval(SETTLE, { keys: [this.#delivery(id), this.#due], arguments: args }));
    return settled === 1;
  }

  async deliveries(owner: Owner, endpointId: string, first: number, after?: string): Promise<DeliveryPage> {
    if (!(await this.endpoint(owner, endpointId))) return { deliveries: [], hasNextPage: false, totalCount: 0 };
    const listKey = this.#deliveries(endpointId);
    return this.redis.run(async (client) => {
      await client.zRemRangeByScore(listKey, '-inf', Date.now() - DELIVERY_RETENTION_MS);
      let start = 0;
      if (after !== undefined) {
        const rank = await client.zRevRank(listKey, after);
        if (rank === null) throw new UnknownCursorError(after);
        start = rank + 1;
      }
      const [ids, totalCount] = await Promise.all([client.zRange(listKey, start, start + first, { REV: true }), client.zCard(listKey)]);
      const found = await Promise.all(ids.slice(0, first).map(async (id) => deliveryOf(await client.hGetAll(this.#delivery(id)))));
      const deliveries = found.filter((delivery): delivery is WebhookDelivery => owns(owner, delivery));
      return { deliveries, hasNextPage: ids.length > first, totalCount };
    });
  }

  async delivery(owner: Owner, id: string) {
    const delivery = deliveryOf(await this.redis.run((client) => client.hGetAll(this.#delivery(id))));
    return owns(owner, delivery) ? delivery : undefined;
  }

  async redeliver(owner: Owner, id: string, now: number) {
    if (!(await this.delivery(owner, id))) return undefined;
    await this.redis.run((client) => client.eval(REDELIVER, { keys: [this.#delivery(id), this.#due], arguments: [id, String(now)] }));
    return this.delivery(owner, id);
  }

  pending() {
    return this.redis.run((client) => client.zCard(this.#due));
  }

  get #due() {
    return `${this.redis.prefix}wh:due`;
  }

  #endpoint(id: string) {
    return `${this.redis.prefix}wh:endpoint:${id}`;
  }

  #endpoints(owner: Owner) {
    return `${this.redis.prefix}wh:endpoints:${owner.tenant}:${owner.caller}`;
  }

  #delivery(id: string) {
    return `${this.redis.prefix}wh:delivery:${id}`;
  }

  #deliveries(endpointId: string) {
    return `${this.redis.prefix}wh:deliveries:${endpointId}`;
  }
}
