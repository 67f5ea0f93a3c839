/**
 * Callers, ownership and the ledger, with the state store in this process and in a real Redis:
 * who placed what, who may read it, and how placements are listed.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddOrderDocument,
  AddSmsOrderDocument,
  OrderDocument,
  OrdersDocument,
  OrderStatusDocument,
  PlacedOrdersDocument,
  PlacedOrdersWithStatusDocument,
  PlacedSmsOrdersDocument,
  ServicesPageDocument,
  SmsOrderDocument,
  SmsProjectsDocument,
} from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY, RESELLER_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';
import { collectSse, wsClient } from '../support/subscribe.ts';

type StoreStart = () => Promise<RedisServer | undefined>;
const stores: Array<[string, StoreStart]> = [['in process', async () => undefined]];
if (redisPresent) stores.push(['in Redis', () => startRedis()]);

async function firstProduct(h: Harness, key: string) {
  const { data } = await h.request(ServicesPageDocument, { first: 500 }, { key });
  return data!.services.edges
    .map((edge) => edge.node)
    .find((service) => service.entityType === 'PRODUCT' && service.autoDelivery && (service.stock ?? 0) >= 5)!;
}

describe.each(stores)('ownership in server-key mode, state %s', (_name, startStore) => {
  const ALICE = 'a-secret-1';
  const BOB = 'b-secret-2';
  const OPS = 'o-secret-3';
  let redis: RedisServer | undefined;
  let h: Harness;
  let aliceOrder: string;
  beforeAll(async () => {
    redis = await startStore();
    h = await startHarness({
      config: {
        serverKey: DEMO_KEY,
        gatewayTokens: [`alice:${ALICE}`, `bob:${BOB}`],
        adminTokens: [`ops:${OPS}`],
        allowAnonymous: true,
        redisUrl: redis?.url,
      },
    });
    const product = await firstProduct(h, ALICE);
    const placed = await h.request(
      AddOrderDocument,
      { input: { serviceId: product.id, quantity: 2, idempotencyKey: 'cart-1' } },
      { key: ALICE },
    );
    aliceOrder = placed.data!.addOrder.id;
    h.sandbox.advance(10);
  });
  afterAll(async () => {
    await h.close();
    await redis?.close();
  });

  it('lets a caller read its own order, accounts included, and an admin token every order', async () => {
    for (const key of [ALICE, OPS]) {
      const { data, errors } = await h.request(OrderDocument, { id: aliceOrder }, { key });
      expect(errors).toBeUndefined();
      expect(data!.order).toMatchObject({ id: aliceOrder, status: 'COMPLETED' });
      expect(data!.order!.accounts).toHaveLength(2);
    }
  });

  it("answers another caller's order exactly as an id that does not exist, without asking the supplier", async () => {
    h.sandbox.resetStats();
    const theirs = await h.request(OrderDocument, { id: aliceOrder }, { key: BOB });
    expect(h.calls('status')).toBe(0);
    // What the supplier itself answers for an id that does not exist, asked by a caller who reads all.
    const unknown = await h.request(OrderDocument, { id: '999999999' }, { key: OPS });
    expect(h.calls('status')).toBe(1);
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs).toEqual(unknown);
  });

  it('answers null with NOT_FOUND at its path for the ids in orders() the caller did not place', async () => {
    const own = await h.placeOrder({ key: BOB });
    const { data, errors } = await h.request(OrdersDocument, { ids: [aliceOrder, own] }, { key: BOB });
    expect(data!.orders[0]).toBeNull();
    expect(data!.orders[1]).toMatchObject({ id: own });
    expect(errors?.map((error) => [error.path, error.extensions?.code])).toEqual([[['orders', 0], 'NOT_FOUND']]);
  });

  it("refuses to watch another caller's order, over WebSocket and SSE", async () => {
    const client = wsClient(h.url, { authorization: `Bearer ${BOB}` });
    const ws = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: print(OrderStatusDocument), variables: { id: aliceOrder } },
        { next: resolve, error: resolve, complete: () => resolve('complete') },
      );
    });
    await client.dispose();
    expect(JSON.stringify(ws)).toContain('NOT_FOUND');
    const sse = await collectSse(h.url, OrderStatusDocument, { id: aliceOrder }, { key: BOB });
    expect(sse.map((event) => event.errors?.[0]?.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(h.gateway.runtime.hub.loops).toBe(0);
  });

  it("keeps idempotency keys per caller: another caller's key places its own order", async () => {
    h.sandbox.resetStats();
    const product = await firstProduct(h, BOB);
    const bob = await h.request(
      AddOrderDocument,
      { input: { serviceId: product.id, quantity: 2, idempotencyKey: 'cart-1' } },
      { key: BOB },
    );
    expect(bob.errors).toBeUndefined();
    expect(bob.data!.addOrder.id).not.toBe(aliceOrder);
    expect(h.calls('add')).toBe(1);
  });

  it('keeps SMS orders to the caller that rented them', async () => {
    const project = (await h.request(SmsProjectsDocument, { country: 'us' }, { key: ALICE })).data!.smsProjects[0]!;
    const rented = await h.request(AddSmsOrderDocument, { input: { projectId: project.id } }, { key: ALICE });
    const id = rented.data!.addSmsOrder[0]!.id;
    expect((await h.request(SmsOrderDocument, { id }, { key: ALICE })).data!.smsOrder).toMatchObject({ id });
    expect((await h.request(SmsOrderDocument, { id }, { key: OPS })).data!.smsOrder).toMatchObject({ id });
    expect(codes(await h.request(SmsOrderDocument, { id }, { key: BOB }))).toEqual(['NOT_FOUND']);
  });

  it('takes every anonymous client as one caller, apart from the named ones', async () => {
    const anonymous = await h.placeOrder({ key: null });
    expect((await h.request(OrderDocument, { id: anonymous }, { key: null })).data!.order).toMatchObject({ id: anonymous });
    expect(codes(await h.request(OrderDocument, { id: anonymous }, { key: BOB }))).toEqual(['NOT_FOUND']);
    expect(codes(await h.request(OrderDocument, { id: aliceOrder }, { key: null }))).toEqual(['NOT_FOUND']);
  });

  it('lists each caller its own placements only', async () => {
    const alice = await h.request(PlacedOrdersDocument, {}, { key: ALICE });
    expect(alice.data!.placedOrders.edges.map((edge) => edge.node.order?.id)).toEqual([aliceOrder]);
    const ops = await h.request(PlacedOrdersDocument, {}, { key: OPS });
    expect(ops.data!.placedOrders.totalCount).toBe(0);
  });
});

describe.each(stores)('placedOrders and placedSmsOrders, state %s', (_name, startStore) => {
  let redis: RedisServer | undefined;
  let h: Harness;
  beforeAll(async () => {
    redis = await startStore();
    h = await startHarness({ config: { redisUrl: redis?.url } });
  });
  afterAll(async () => {
    await h.close();
    await redis?.close();
  });

  it('lists PLACED and UNCONFIRMED placements newest first, page by page, without asking the supplier', async () => {
    const { data } = await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' });
    const service = data!.services.edges[0]!.node;
    const input = (n: number) => ({
      serviceId: service.id,
      quantity: service.min,
      link: `https://instagram.com/p/${n}`,
      idempotencyKey: `list-${n}`,
    });
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.push((await h.request(AddOrderDocument, { input: input(n) })).data!.addOrder.id);
    h.sandbox.setFaults({ dropRate: 1, actions: ['add'], count: 1 });
    expect((await h.request(AddOrderDocument, { input: input(4) })).errors?.[0]?.extensions?.orderMayExist).toBe(true);
    // Refused before the spend, and refused by the supplier before the action ran: neither is listed.
    await h.request(AddOrderDocument, { input: { ...input(5), quantity: service.max + 1 } });
    h.sandbox.setFaults({ error200Rate: 1, error200Message: 'Insufficient balance', actions: ['add'], count: 1 });
    expect(codes(await h.request(AddOrderDocument, { input: input(6) }))).toEqual(['INSUFFICIENT_BALANCE']);

    h.sandbox.resetStats();
    const first = (await h.request(PlacedOrdersDocument, { first: 2 })).data!.placedOrders;
    expect(first.totalCount).toBe(4);
    expect(first.edges.map((edge) => [edge.node.idempotencyKey, edge.node.outcome, edge.node.order?.id ?? null])).toEqual([
      ['list-4', 'UNCONFIRMED', null],
      ['list-3', 'PLACED', ids[2]],
    ]);
    expect(first.edges[1]!.node).toMatchObject({ serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/3' });
    expect(first.edges[1]!.node.estimatedCharge?.currency).toBe('USD');
    expect(Date.parse(first.edges[0]!.node.placedAt)).toBeGreaterThanOrEqual(Date.parse(first.edges[1]!.node.placedAt));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = (await h.request(PlacedOrdersDocument, { first: 2, after: first.pageInfo.endCursor })).data!.placedOrders;
    expect(second.edges.map((edge) => edge.node.order?.id)).toEqual([ids[1], ids[0]]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(h.calls()).toBe(0);

    const withStatus = (await h.request(PlacedOrdersWithStatusDocument, { first: 10 })).data!.placedOrders;
    expect(withStatus.edges.map((edge) => edge.node.order?.status ?? null)).toEqual([null, 'PENDING', 'PENDING', 'PENDING']);
    // The page's three orders in one status call.
    expect(h.calls('status')).toBe(1);
  });

  it('refuses a cursor it did not give out', async () => {
    expect(codes(await h.request(PlacedOrdersDocument, { after: 'bm90LWEtY3Vyc29y' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('lists SMS rentals with their numbers', async () => {
    const project = (await h.request(SmsProjectsDocument, { country: 'us' })).data!.smsProjects[0]!;
    const rented = await h.request(AddSmsOrderDocument, { input: { projectId: project.id, quantity: 2, idempotencyKey: 'sms-1' } });
    const ids = rented.data!.addSmsOrder.map((order) => order.id);
    const { placedSmsOrders } = (await h.request(PlacedSmsOrdersDocument, {})).data!;
    expect(placedSmsOrders.totalCount).toBe(1);
    expect(placedSmsOrders.edges[0]!.node).toMatchObject({
      outcome: 'PLACED',
      projectId: project.id,
      quantity: 2,
      idempotencyKey: 'sms-1',
    });
    expect(placedSmsOrders.edges[0]!.node.smsOrders.map((order) => [order.id, order.status])).toEqual(ids.map((id) => [id, 'ACTIVE']));
  });

  it("keeps other callers' placements out of a caller's list", async () => {
    const reseller = await h.request(PlacedOrdersDocument, {}, { key: RESELLER_KEY });
    expect(reseller.data!.placedOrders.totalCount).toBe(0);
  });
});

describe.each(stores)('idempotency records bounded per caller, state %s', (_name, startStore) => {
  let redis: RedisServer | undefined;
  let h: Harness;
  beforeAll(async () => {
    redis = await startStore();
    h = await startHarness({ config: { redisUrl: redis?.url, idempotencyMaxEntries: 3 } });
  });
  afterAll(async () => {
    await h.close();
    await redis?.close();
  });

  it("keeps a caller's records however many another caller makes", async () => {
    const { data } = await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' });
    const service = data!.services.edges[0]!.node;
    const input = (key: string) => ({
      serviceId: service.id,
      quantity: service.min,
      link: 'https://instagram.com/p/b',
      idempotencyKey: key,
    });
    const first = await h.request(AddOrderDocument, { input: input('mine') }, { key: RESELLER_KEY });
    for (let n = 0; n < 10; n += 1) await h.request(AddOrderDocument, { input: input(`theirs-${n}`) }, { key: DEMO_KEY });
    h.sandbox.resetStats();
    const repeat = await h.request(AddOrderDocument, { input: input('mine') }, { key: RESELLER_KEY });
    expect(repeat.data!.addOrder.id).toBe(first.data!.addOrder.id);
    expect(h.calls('add')).toBe(0);
  });
});
