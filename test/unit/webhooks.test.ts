/**
 * Webhooks below the schema: the address guard, the retry schedule, the sender's signatures and
 * connect-time check, and the dispatcher over an outbox double, in this process and on Redis.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventType, Outbox, RecordedEvent } from '../../src/events/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { RedisConnection } from '../../src/state/connection.ts';
import { checkWebhookUrl, refusedBecause } from '../../src/webhooks/address-guard.ts';
import { WebhookDispatcher, type DeliveryOutcome } from '../../src/webhooks/dispatcher.ts';
import { MemoryWebhookStore } from '../../src/webhooks/memory-store.ts';
import { RedisWebhookStore } from '../../src/webhooks/redis-store.ts';
import { parseRetryAfter, RETRY_DELAYS_MS, retryDelay } from '../../src/webhooks/schedule.ts';
import { WebhookSender } from '../../src/webhooks/sender.ts';
import type { WebhookEndpoint, WebhookStore } from '../../src/webhooks/store.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const OLD_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const logger = createLogger('silent');

/** An outbox double: events added are taken once each, and taken again until done. */
class TestOutbox implements Outbox {
  readonly #entries = new Map<string, { event: RecordedEvent; takenUntil: number }>();
  add(event: RecordedEvent) {
    this.#entries.set(event.id, { event, takenUntil: 0 });
  }
  async take(max: number, leaseMs: number) {
    const now = Date.now();
    const free = [...this.#entries.entries()].filter(([, entry]) => entry.takenUntil <= now).slice(0, max);
    return free.map(([receipt, entry]) => {
      entry.takenUntil = now + leaseMs;
      return { event: entry.event, receipt };
    });
  }
  async done(receipt: string) {
    this.#entries.delete(receipt);
  }
  get size() {
    return this.#entries.size;
  }
}

let sequence = 0;
function event(orderId: string, version: number, type: EventType = 'order.updated', callers = ['shop']): RecordedEvent {
  return {
    id: `evt_${++sequence}`,
    type,
    tenant: 't1',
    callers,
    kind: type === 'order.updated' ? 'order' : type === 'sms_order.updated' ? 'sms' : 'refill',
    orderId,
    version,
    at: new Date().toISOString(),
    state: {
      id: orderId,
      status: version >= 3 ? 'COMPLETED' : 'IN_PROGRESS',
      rawStatus: 'x',
      charge: { amount: '0.50', currency: 'USD' },
      startCount: 0,
      remains: 0,
      autoDelivery: null,
      entityType: null,
      accounts: [],
    },
  };
}

function endpoint(url: string, fields: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id: `whe_${++sequence}`,
    tenant: 't1',
    caller: 'shop',
    url,
    events: [],
    scopes: ['orders:read', 'orders:place'],
    secrets: [{ value: SECRET }],
    enabled: true,
    disabledReason: null,
    createdAt: new Date().toISOString(),
    failingSince: null,
    ...fields,
  };
}

describe('the address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12::1', 'private'],
    ['169.254.169.254', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'CGNAT'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    // IPv4 inside IPv6 in the forms a URL parser writes it, and the other embeddings.
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'cloud metadata'],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['64:ff9b::7f00:1', 'NAT64'],
    ['2002:7f00:1::', '6to4'],
  ])('refuses %s as %s', (address, reason) => {
    expect(refusedBecause(address)).toBe(reason);
  });

  it('lets public addresses through', () => {
    expect(['93.184.216.34', '2606:2800:220:1::1', '8.8.8.8', '::ffff:8.8.8.8'].map(refusedBecause)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('refuses at creation a host any of whose addresses is not public, with the reason', async () => {
    const resolve = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ];
    await expect(checkWebhookUrl('https://hooks.example/in', false, resolve)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', field: 'url', reason: 'ITS_HOST_RESOLVES_TO_A_PRIVATE_ADDRESS' },
    });
    await expect(checkWebhookUrl('ftp://hooks.example/in', false, resolve)).rejects.toMatchObject({ extensions: { field: 'url' } });
    await expect(checkWebhookUrl('https://[::1]:8080/in', false, resolve)).rejects.toMatchObject({ extensions: { field: 'url' } });
    // The URL parser writes [::ffff:127.0.0.1] as [::ffff:7f00:1]: still loopback.
    for (const url of ['http://[::ffff:127.0.0.1]/', 'http://[::ffff:169.254.169.254]/', 'http://[0:0:0:0:0:ffff:10.0.0.1]/']) {
      await expect(checkWebhookUrl(url, false, resolve), url).rejects.toMatchObject({ extensions: { field: 'url' } });
    }
    expect((await checkWebhookUrl('https://hooks.example/in', true, resolve)).hostname).toBe('hooks.example');
  });
});

describe('the retry schedule', () => {
  it('follows the Standard Webhooks delays, scaled, within ±10%, then gives up', () => {
    const middle = { scale: 1, random: () => 0.5 };
    expect(RETRY_DELAYS_MS.map((_, index) => retryDelay(index + 1, middle))).toEqual(RETRY_DELAYS_MS);
    expect(retryDelay(RETRY_DELAYS_MS.length + 1, middle)).toBeUndefined();
    expect(retryDelay(1, middle)).toBe(5_000);
    expect(retryDelay(2, { scale: 1, random: () => 0 })).toBe(270_000);
    expect(retryDelay(2, { scale: 1, random: () => 1 })).toBe(330_000);
    expect(retryDelay(2, { scale: 0.001, random: () => 0.5 })).toBe(300);
  });

  it('waits for a longer Retry-After, in seconds or as a date, and ignores a shorter one', () => {
    const now = Date.parse('2026-12-06T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 06 Dec 2026 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(retryDelay(1, { scale: 1, random: () => 0.5 }, 60_000)).toBe(60_000);
    expect(retryDelay(2, { scale: 1, random: () => 0.5 }, 60_000)).toBe(300_000);
  });
});

describe('the sender', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver([SECRET, OLD_SECRET]);
  });
  afterEach(() => void receiver.hits.splice(0));
  afterAll(() => receiver.close());

  const delivery = (body = '{"type":"order.updated"}') => ({
    id: 'whd_1',
    endpointId: 'whe_1',
    tenant: 't1',
    caller: 'shop',
    eventId: 'evt_sender',
    eventType: 'order.updated' as const,
    body,
    status: 'PENDING' as const,
    attempts: 1,
    lastStatusCode: null,
    lastError: null,
    nextAttemptAt: null,
    deliveredAt: null,
    createdAt: Date.now(),
  });

  it('signs with the new and the previous secret during a rotation; the receiver verifies with either', async () => {
    const sender = new WebhookSender({ timeoutMs: 2000, allowPrivate: true });
    const rotated = endpoint(receiver.url, { secrets: [{ value: SECRET }, { value: OLD_SECRET, expiresAt: Date.now() + 60_000 }] });
    expect(await sender.send(rotated, delivery())).toEqual({ outcome: 'delivered', statusCode: 204 });
    const [hit] = receiver.hits;
    expect(hit!.signature.split(' ')).toHaveLength(2);
    expect(hit!.verifiedBy).toEqual([0, 1]);
    const expired = endpoint(receiver.url, { secrets: [{ value: SECRET }, { value: OLD_SECRET, expiresAt: Date.now() - 1 }] });
    await sender.send(expired, delivery());
    expect(receiver.hits[1]!.verifiedBy).toEqual([0]);
    await sender.close();
  });

  it('refuses at connect time a name that now resolves to loopback (DNS rebinding), and reaches it when private targets are allowed', async () => {
    const port = new URL(receiver.url).port;
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const guarded = new WebhookSender({ timeoutMs: 2000, allowPrivate: false, resolve });
    const rebound = endpoint(`http://hooks.example:${port}/hooks`);
    expect(await guarded.send(rebound, delivery())).toMatchObject({ outcome: 'refused_address' });
    expect(receiver.hits).toHaveLength(0);
    const open = new WebhookSender({ timeoutMs: 2000, allowPrivate: true, resolve });
    expect(await open.send(rebound, delivery())).toMatchObject({ outcome: 'delivered' });
    expect(receiver.hits).toHaveLength(1);
    await Promise.all([guarded.close(), open.close()]);
  });

  it('refuses an address written in the URL without connecting', async () => {
    const guarded = new WebhookSender({ timeoutMs: 2000, allowPrivate: false });
    expect(await guarded.send(endpoint(receiver.url), delivery())).toMatchObject({ outcome: 'refused_address' });
    expect(receiver.hits).toHaveLength(0);
    await guarded.close();
  });

  it('reports a timeout without naming the address', async () => {
    receiver.delayMs = 500;
    const sender = new WebhookSender({ timeoutMs: 100, allowPrivate: true });
    const result = await sender.send(endpoint(receiver.url), delivery());
    receiver.delayMs = 0;
    expect(result).toEqual({ outcome: 'failed', statusCode: null, error: 'no answer within 100 ms' });
    await sender.close();
  });
});

/** A dispatcher over `store` with a tiny schedule, counting outcomes. */
function dispatcher(store: WebhookStore, outbox: Outbox, counts: Map<DeliveryOutcome, number>, scale = 0.0005) {
  const sender = new WebhookSender({ timeoutMs: 2000, allowPrivate: true });
  const instance = new WebhookDispatcher({
    store,
    sender,
    policy: { scale },
    timeoutMs: 2000,
    concurrency: 8,
    onAttempt: (outcome) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1),
    logger,
  });
  instance.start(outbox);
  return instance;
}

/** Each order's versions in the order the receiver first got them, after dedupe by webhook-id. */
function versionsByOrder(receiver: Receiver): Record<string, number[]> {
  const byOrder: Record<string, number[]> = {};
  for (const hit of receiver.delivered()) (byOrder[String(hit.payload.data.order.id)] ??= []).push(hit.payload.data.version);
  return byOrder;
}

describe('the dispatcher in this process', () => {
  let receiver: Receiver;
  const counts = new Map<DeliveryOutcome, number>();
  const running: WebhookDispatcher[] = [];
  beforeAll(async () => {
    receiver = await startReceiver([SECRET]);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((instance) => instance.stop(1000)));
    receiver.hits.splice(0);
    Object.assign(receiver, { mode: 'up', failFirst: 0 });
    counts.clear();
  });
  afterAll(() => receiver.close());

  it('delivers each event once to each matching endpoint of its callers, signed, without the charge unless account:read', async () => {
    const store = new MemoryWebhookStore();
    const outbox = new TestOutbox();
    const all = endpoint(receiver.url, { scopes: ['orders:read', 'account:read'] });
    const smsOnly = endpoint(receiver.url, { events: ['sms_order.updated'] });
    const another = endpoint(receiver.url, { caller: 'someone-else' });
    for (const one of [all, smsOnly, another]) await store.addEndpoint(one);
    outbox.add(event('101', 1));
    running.push(dispatcher(store, outbox, counts));
    await expect.poll(() => receiver.hits.length).toBe(1);
    expect(outbox.size).toBe(0);
    const [hit] = receiver.hits;
    expect(hit!.verifiedBy).toEqual([0]);
    expect(hit!.payload).toMatchObject({
      type: 'order.updated',
      data: { version: 1, kind: 'order', order: { id: '101', status: 'IN_PROGRESS', isFinal: false, charge: { amount: '0.50' } } },
    });
    expect(hit!.id).toBe(hit!.payload.data.eventId);
    const page = await store.deliveries({ tenant: 't1', caller: 'shop' }, all.id, 10);
    expect(page.deliveries).toMatchObject([{ status: 'DELIVERED', attempts: 1, lastStatusCode: 204 }]);
    expect(counts.get('delivered')).toBe(1);

    const limited = endpoint(receiver.url, { caller: 'customer:1', scopes: ['orders:read'] });
    await store.addEndpoint(limited);
    outbox.add(event('102', 1, 'order.updated', ['customer:1']));
    await expect.poll(() => receiver.hits.length).toBe(2);
    expect(receiver.hits[1]!.payload.data.order).not.toHaveProperty('charge');
  });

  it('retries while the receiver is down and delivers every event once it is back, in version order per order', async () => {
    const store = new MemoryWebhookStore();
    const outbox = new TestOutbox();
    await store.addEndpoint(endpoint(receiver.url));
    running.push(dispatcher(store, outbox, counts));
    receiver.mode = 'down';
    for (let version = 1; version <= 3; version++) for (const order of ['201', '202']) outbox.add(event(order, version));
    await expect.poll(() => new Set(receiver.hits.map((hit) => hit.id)).size).toBe(6);
    await expect.poll(() => counts.get('failed_attempt') ?? 0).toBeGreaterThanOrEqual(12);
    receiver.mode = 'up';
    await expect.poll(() => receiver.delivered().length).toBe(6);
    const byOrder = versionsByOrder(receiver);
    expect(Object.values(byOrder).map((versions) => [...versions].sort())).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });

  it('disables an endpoint that answers 410 and stops sending to it', async () => {
    const store = new MemoryWebhookStore();
    const outbox = new TestOutbox();
    const gone = endpoint(receiver.url);
    await store.addEndpoint(gone);
    running.push(dispatcher(store, outbox, counts));
    receiver.mode = 'gone';
    outbox.add(event('301', 1));
    await expect.poll(async () => (await store.endpointById(gone.id))?.enabled).toBe(false);
    expect((await store.endpointById(gone.id))?.disabledReason).toMatch(/^GONE/);
    outbox.add(event('301', 2));
    await expect.poll(async () => (await store.deliveries(gone, gone.id, 10)).deliveries.every((d) => d.status === 'FAILED')).toBe(true);
    expect(receiver.hits).toHaveLength(1);
  });

  it('gives a delivery up as FAILED after the last retry', async () => {
    const store = new MemoryWebhookStore();
    const outbox = new TestOutbox();
    const failing = endpoint(receiver.url);
    await store.addEndpoint(failing);
    running.push(dispatcher(store, outbox, counts, 0.00001));
    receiver.mode = 'down';
    outbox.add(event('401', 1));
    await expect.poll(() => counts.get('gave_up') ?? 0, { timeout: 15_000 }).toBe(1);
    expect(receiver.hits).toHaveLength(RETRY_DELAYS_MS.length + 1);
    expect((await store.deliveries(failing, failing.id, 1)).deliveries[0]).toMatchObject({ status: 'FAILED', lastStatusCode: 503 });
  });

  it('ignores the late result of an attempt whose lease lapsed and was claimed again', async () => {
    const store = new MemoryWebhookStore();
    const one = endpoint(receiver.url);
    await store.addEndpoint(one);
    const now = Date.now();
    await store.enqueue([{ ...(await newDelivery(one, now)) }]);
    const [first] = await store.claim(now, 10, 100);
    expect(await store.claim(now + 50, 10, 100)).toEqual([]);
    const [second] = await store.claim(now + 150, 10, 100);
    expect(second!.fence).toBeGreaterThan(first!.fence);
    const done = { status: 'DELIVERED' as const, lastStatusCode: 200, lastError: null, nextAttemptAt: null, deliveredAt: now };
    expect(await store.settle(first!.delivery.id, first!.fence, done)).toBe(false);
    expect(await store.settle(second!.delivery.id, second!.fence, done)).toBe(true);
  });
});

async function newDelivery(one: WebhookEndpoint, now: number) {
  return {
    id: `whd_${++sequence}`,
    endpointId: one.id,
    tenant: one.tenant,
    caller: one.caller,
    eventId: `evt_${sequence}`,
    eventType: 'order.updated' as const,
    body: '{}',
    status: 'PENDING' as const,
    attempts: 0,
    lastStatusCode: null,
    lastError: null,
    nextAttemptAt: now,
    deliveredAt: null,
    createdAt: now,
  };
}

describe.skipIf(!redisPresent)('the dispatcher on Redis', () => {
  let redis: RedisServer;
  let receiver: Receiver;
  const connections: RedisConnection[] = [];
  const connect = () => {
    const connection = new RedisConnection(redis.url, 'hstock:', logger);
    connections.push(connection);
    return new RedisWebhookStore(connection);
  };
  beforeAll(async () => {
    redis = await startRedis();
    receiver = await startReceiver([SECRET]);
  });
  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await receiver.close();
    await redis.close();
  });

  it('keeps endpoints and deliveries as the memory store does, fence included', async () => {
    const store = connect();
    const one = endpoint(receiver.url, { events: [] });
    await store.addEndpoint(one);
    expect(await store.endpoint(one, one.id)).toEqual(one);
    expect(await store.endpoint({ tenant: 't1', caller: 'other' }, one.id)).toBeUndefined();
    const now = Date.now();
    await store.enqueue([await newDelivery(one, now)]);
    const [first] = await store.claim(now, 10, 100);
    const [second] = await store.claim(now + 150, 10, 100);
    const done = { status: 'DELIVERED' as const, lastStatusCode: 200, lastError: null, nextAttemptAt: null, deliveredAt: now };
    expect(await store.settle(first!.delivery.id, first!.fence, done)).toBe(false);
    expect(await store.settle(second!.delivery.id, second!.fence, done)).toBe(true);
    expect((await store.deliveries(one, one.id, 10)).deliveries[0]).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    expect(await store.deleteEndpoint(one, one.id)).toBe(true);
    expect(await store.endpoints(one)).toEqual([]);
  });

  it('sends each attempt from one instance when two share the Redis', async () => {
    const counts = new Map<DeliveryOutcome, number>();
    const [a, b] = [connect(), connect()];
    const outbox = new TestOutbox();
    const shared = endpoint(receiver.url);
    await a.addEndpoint(shared);
    receiver.failFirst = 2;
    const instances = [dispatcher(a, outbox, counts), dispatcher(b, outbox, counts)];
    for (let n = 0; n < 40; n++) outbox.add(event(`5${n}`, 1));
    await expect.poll(() => receiver.delivered().length).toBe(40);
    await Promise.all(instances.map((instance) => instance.stop(1000)));
    const perEvent = new Map<string, number>();
    for (const hit of receiver.hits) perEvent.set(hit.id, (perEvent.get(hit.id) ?? 0) + 1);
    expect(new Set(perEvent.values())).toEqual(new Set([3]));
    expect(counts.get('delivered')).toBe(40);
    expect(counts.get('failed_attempt')).toBe(80);
  });
});
