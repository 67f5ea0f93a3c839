/**
 * Following placed orders to their end in server-key mode, with the state store in this process
 * and in a real Redis: each change recorded once as an event, the caller's change feed
 * (`orderEvents`), the ledger filtered by recorded state, and what following costs the supplier,
 * with one gateway and with two on one Redis.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { OrderEventsDocument, PlacedOrdersRecordedDocument } from '../generated/graphql.ts';
import { MANY_REQUESTS, startHarness, type Harness, type HarnessOptions } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';

const SHOP = 's3cret-shop-1';
const OTHER = 's3cret-other-2';

type StoreStart = () => Promise<RedisServer | undefined>;
const stores: Array<[string, StoreStart]> = [['in process', async () => undefined]];
if (redisPresent) stores.push(['in Redis', () => startRedis()]);

/** A gateway spending its own key that follows every order, on a sandbox whose clock only the test moves. */
const following = (redis: RedisServer | undefined, pollMs: number, maxPollMs: number): HarnessOptions => ({
  config: {
    serverKey: DEMO_KEY,
    gatewayTokens: [`shop:${SHOP}`, `other:${OTHER}`],
    redisUrl: redis?.url,
    rateLimit: MANY_REQUESTS,
    followPollMs: pollMs,
    followPollMaxMs: maxPollMs,
  },
  sandbox: { timeScale: 0, partialShare: 0, cancelShare: 0 },
});

/** Every event of the caller's feed, walked a page at a time. */
async function feed(h: Harness, key: string) {
  const events = [];
  let after: string | null | undefined;
  do {
    const { data, errors } = await h.request(OrderEventsDocument, { after, first: 500 }, { key });
    expect(errors).toBeUndefined();
    events.push(...data!.orderEvents.edges.map((edge) => edge.node));
    after = data!.orderEvents.pageInfo.hasNextPage ? data!.orderEvents.pageInfo.endCursor : undefined;
  } while (after);
  return events;
}

/** Places `count` orders for the caller, 25 at a time. */
async function placeMany(h: Harness, count: number, key: string): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < count)
    ids.push(...(await Promise.all(Array.from({ length: Math.min(25, count - ids.length) }, () => h.placeOrder({ key })))));
  return ids;
}

/** Versions per order, each order's in the order the feed gave them. */
function versionsByOrder(events: Array<{ orderId: string; version: number }>): Map<string, number[]> {
  const byOrder = new Map<string, number[]>();
  for (const event of events) byOrder.set(event.orderId, [...(byOrder.get(event.orderId) ?? []), event.version]);
  return byOrder;
}

/**
 * Status calls made over a measured window, and the most rounds the window could hold: a round
 * starts a poll interval after the previous one ended, so never more often than that.
 */
async function statusCallsOver(hs: Harness[], windowMs: number, pollMs: number) {
  hs[0]!.sandbox.resetStats();
  await sleep(windowMs);
  return { calls: hs[0]!.calls('status'), rounds: Math.floor(windowMs / pollMs) + 1 };
}

describe.each(stores)('following orders, state %s', (_name, startStore) => {
  let redis: RedisServer | undefined;
  let h: Harness;
  let orderId: string;
  beforeAll(async () => {
    redis = await startStore();
    h = await startHarness(following(redis, 50, 200));
  });
  afterAll(async () => {
    await h.close();
    await redis?.close();
  });

  it('records each change of an order nobody watches once, versions 1, 2, 3 in order, up to COMPLETED', async () => {
    orderId = await h.placeOrder({ key: SHOP });
    const mine = async () => (await feed(h, SHOP)).filter((event) => event.orderId === orderId);
    await vi.waitFor(async () => expect((await mine()).map((event) => event.order?.status)).toEqual(['PENDING']));
    h.sandbox.advance(45);
    await vi.waitFor(async () => expect(await mine()).toHaveLength(2));
    h.sandbox.advance(7200);
    await vi.waitFor(async () => expect((await mine()).at(-1)?.order?.status).toBe('COMPLETED'));
    const events = await mine();
    expect(events.map((event) => event.version)).toEqual([1, 2, 3]);
    expect(events.map((event) => event.order?.status)).toEqual(['PENDING', 'IN_PROGRESS', 'COMPLETED']);
    expect(new Set(events.map((event) => event.id)).size).toBe(3);
    expect(events.every((event) => event.id.startsWith('evt_') && event.type === 'order.updated' && event.kind === 'ORDER')).toBe(true);
    expect(events.every((event) => event.smsOrder === null && event.refill === null)).toBe(true);
  });

  it('reads the feed from the recorded states, a page at a time after the cursor, with no supplier call', async () => {
    h.sandbox.resetStats();
    const first = await h.request(OrderEventsDocument, { first: 1 }, { key: SHOP });
    const rest = await h.request(OrderEventsDocument, { first: 500, after: first.data!.orderEvents.pageInfo.endCursor }, { key: SHOP });
    expect(first.data!.orderEvents.pageInfo.hasNextPage).toBe(true);
    expect([...first.data!.orderEvents.edges, ...rest.data!.orderEvents.edges].map((edge) => edge.node.version)).toEqual([1, 2, 3]);
    expect(rest.data!.orderEvents.pageInfo.hasNextPage).toBe(false);
    expect(h.calls()).toBe(0);
  });

  it('refuses a cursor it did not give out and a page size out of range', async () => {
    const badCursor = await h.request(OrderEventsDocument, { after: 'not-a-cursor' }, { key: SHOP });
    const badSize = await h.request(OrderEventsDocument, { first: 0 }, { key: SHOP });
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(badSize.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('finds the order by its recorded status and change time, with no supplier call', async () => {
    h.sandbox.resetStats();
    const ids = async (variables: { status?: 'COMPLETED' | 'PENDING'; updatedSince?: string }) => {
      const { data, errors } = await h.request(PlacedOrdersRecordedDocument, variables, { key: SHOP });
      expect(errors).toBeUndefined();
      return data!.placedOrders.edges.map((edge) => edge.node.order?.id);
    };
    expect(await ids({ status: 'COMPLETED' })).toEqual([orderId]);
    expect(await ids({ status: 'PENDING' })).toEqual([]);
    expect(await ids({ updatedSince: new Date(Date.now() - 60_000).toISOString() })).toEqual([orderId]);
    expect(await ids({ updatedSince: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
    expect(h.calls()).toBe(0);
  });

  it('shows another caller none of these events, nor the order in its filtered ledger', async () => {
    expect(await feed(h, OTHER)).toEqual([]);
    const theirs = await h.request(PlacedOrdersRecordedDocument, { status: 'COMPLETED' }, { key: OTHER });
    expect(theirs.data!.placedOrders).toMatchObject({ totalCount: 0, edges: [] });
  });
});

describe.each(stores)('what following costs the supplier, state %s', (_name, startStore) => {
  const POLL_MS = 100;
  let redis: RedisServer | undefined;
  let h: Harness;
  beforeAll(async () => {
    redis = await startStore();
    h = await startHarness(following(redis, POLL_MS, POLL_MS));
  });
  afterAll(async () => {
    await h.close();
    await redis?.close();
  });

  it('reads 250 open orders with at most 3 status calls a round', async () => {
    await placeMany(h, 250, SHOP);
    await vi.waitFor(async () => expect(await feed(h, SHOP)).toHaveLength(250), { timeout: 10_000, interval: 100 });
    const { calls, rounds } = await statusCallsOver([h], 1000, POLL_MS);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(3 * rounds);
  });
});

describe.skipIf(!redisPresent)('two gateways following on one Redis', () => {
  const POLL_MS = 100;
  let redis: RedisServer;
  let one: Harness;
  let two: Harness;
  beforeAll(async () => {
    redis = await startRedis();
    one = await startHarness(following(redis, POLL_MS, POLL_MS));
    two = await startHarness({ ...following(redis, POLL_MS, POLL_MS), upstream: one.sandbox });
  });
  afterAll(async () => {
    await two.close();
    await one.close();
    await redis.close();
  });

  it('reads each batch on one of them: 250 open orders cost about 3 status calls a round, not 250', async () => {
    await placeMany(one, 250, SHOP);
    await vi.waitFor(async () => expect(await feed(two, SHOP)).toHaveLength(250), { timeout: 10_000, interval: 100 });
    const { calls, rounds } = await statusCallsOver([one, two], 1000, POLL_MS);
    expect(calls).toBeGreaterThanOrEqual(3);
    // Two instances' rounds are not in step: a busy machine can split a round's ids over one more call.
    expect(calls).toBeLessThanOrEqual(4 * rounds);
  });

  it('records each change once: every order has versions 1 then 2, whichever gateway is asked', async () => {
    one.sandbox.advance(45);
    await vi.waitFor(async () => expect(await feed(one, SHOP)).toHaveLength(500), { timeout: 10_000, interval: 100 });
    for (const h of [one, two]) {
      const events = await feed(h, SHOP);
      expect(new Set(events.map((event) => event.id)).size).toBe(500);
      expect([...versionsByOrder(events).values()].every((versions) => versions.join() === '1,2')).toBe(true);
    }
    expect(await feed(two, OTHER)).toEqual([]);
  });
});

describe('following in pass-through mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { followPollMs: 50 }, sandbox: { timeScale: 0 } });
  });
  afterAll(() => h.close());

  it('follows nothing, holding no key to follow with: the feed stays empty', async () => {
    await h.placeOrder();
    expect(h.gateway.runtime.follower).toBeUndefined();
    expect(await feed(h, DEMO_KEY)).toEqual([]);
  });
});
