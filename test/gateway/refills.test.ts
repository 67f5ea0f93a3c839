/**
 * Refills and cancels through the gateway, in server-key mode (callers own what they placed), with
 * the state in this process and in a real Redis; and against a supplier without those actions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddOrderDocument,
  CancelOrdersDocument,
  OrderDocument,
  RefillDocument,
  RefillOrderDocument,
  RefillStatusDocument,
  ServicesPageDocument,
} from '../generated/graphql.ts';
import { codes, MANY_REQUESTS, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';
import { collectSse, collectWs, wsClient } from '../support/subscribe.ts';

type StoreStart = () => Promise<RedisServer | undefined>;
const stores: Array<[string, StoreStart]> = [['in process', async () => undefined]];
if (redisPresent) stores.push(['in Redis', () => startRedis()]);

const ALICE = 'a-secret-1';
const BOB = 'b-secret-2';
/** No order ends Partial or Canceled by itself, and no refill is rejected unless a test says so. */
const steady = { partialShare: 0, cancelShare: 0, refillRejectShare: 0 };
/** With `steady`, an order of 1,000 units waits 30 s and runs 70 s; a refill waits 30 s and runs 150 s. */
const ORDER_DONE_SECONDS = 100;
const REFILL_DONE_SECONDS = 180;
const NOWHERE = '999999999';

interface Flags {
  refill: boolean;
  cancel: boolean;
}

async function serviceWith(h: Harness, flags: Flags, key: string) {
  const { data } = await h.request(ServicesPageDocument, { first: 500 }, { key });
  const service = data!.services.edges
    .map((edge) => edge.node)
    .find(
      (candidate) =>
        candidate.entityType === 'SMM' &&
        candidate.type === 'Default' &&
        candidate.min <= 1000 &&
        candidate.max >= 1000 &&
        candidate.refill === flags.refill &&
        candidate.cancel === flags.cancel,
    );
  if (!service) throw new Error(`no service with ${JSON.stringify(flags)}`);
  return service;
}

async function place(h: Harness, flags: Flags, key = ALICE): Promise<string> {
  const service = await serviceWith(h, flags, key);
  const input = { serviceId: service.id, quantity: 1000, link: 'https://instagram.com/p/refill' };
  const placed = await h.request(AddOrderDocument, { input }, { key });
  if (!placed.data) throw new Error(JSON.stringify(placed.errors));
  return placed.data.addOrder.id;
}

describe.each(stores)('refills and cancels, state %s', (_name, startStore) => {
  let redis: RedisServer | undefined;
  let h: Harness;
  beforeAll(async () => {
    redis = await startStore();
    h = await startHarness({
      sandbox: steady,
      config: {
        serverKey: DEMO_KEY,
        gatewayTokens: [`alice:${ALICE}`, `bob:${BOB}`],
        redisUrl: redis?.url,
        orderPollMs: 20,
        orderPollMaxMs: 80,
        rateLimit: MANY_REQUESTS,
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await redis?.close();
  });

  it('refills a completed order, answers it by id, and asks once for a repeated idempotency key', async () => {
    const order = await place(h, { refill: true, cancel: false });
    h.sandbox.advance(ORDER_DONE_SECONDS);
    h.sandbox.resetStats();
    const input = { orderId: order, idempotencyKey: `refill-${order}` };
    const first = await h.request(RefillOrderDocument, { input }, { key: ALICE });
    expect(first.errors).toBeUndefined();
    expect(first.data!.refillOrder).toMatchObject({ orderId: order, status: 'PENDING', rawStatus: 'Pending', isFinal: false });
    const again = await h.request(RefillOrderDocument, { input }, { key: ALICE });
    expect(again.data!.refillOrder.id).toBe(first.data!.refillOrder.id);
    expect(h.calls('refill')).toBe(1);

    const before = await h.request(RefillDocument, { id: first.data!.refillOrder.id }, { key: ALICE });
    expect(before.data!.refill).toMatchObject({ status: 'PENDING' });
    // Read live, never from a cached answer.
    h.sandbox.advance(REFILL_DONE_SECONDS);
    const read = await h.request(RefillDocument, { id: first.data!.refillOrder.id }, { key: ALICE });
    expect(read.data!.refill).toMatchObject({ id: first.data!.refillOrder.id, orderId: order, status: 'COMPLETED', isFinal: true });
  });

  it('refuses a service without refills and an order that is not the caller’s before any supplier call', async () => {
    const plain = await place(h, { refill: false, cancel: false });
    const alices = await place(h, { refill: true, cancel: false });
    h.sandbox.advance(ORDER_DONE_SECONDS);
    h.sandbox.resetStats();
    const refused = await h.request(RefillOrderDocument, { input: { orderId: plain } }, { key: ALICE });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'orderId', reason: 'REFILL_UNAVAILABLE' });

    const theirs = await h.request(RefillOrderDocument, { input: { orderId: alices } }, { key: BOB });
    const nowhere = await h.request(RefillOrderDocument, { input: { orderId: NOWHERE } }, { key: BOB });
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs.errors![0]!.message).toBe(nowhere.errors![0]!.message);
    expect(h.calls()).toBe(0);
  });

  it("says the supplier's refusal as UPSTREAM_ERROR with its text, and records no refill", async () => {
    const running = await place(h, { refill: true, cancel: false });
    const refused = await h.request(RefillOrderDocument, { input: { orderId: running } }, { key: ALICE });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_ERROR',
      upstreamMessage: 'Only a completed or partial order can be refilled',
    });
    expect(refused.errors![0]!.message).toBe('Only a completed or partial order can be refilled');
  });

  it('hides a refill from every caller but its own, as a refill that does not exist, with no supplier call', async () => {
    const order = await place(h, { refill: true, cancel: false });
    h.sandbox.advance(ORDER_DONE_SECONDS);
    const refill = (await h.request(RefillOrderDocument, { input: { orderId: order } }, { key: ALICE })).data!.refillOrder.id;
    h.sandbox.resetStats();
    const theirs = await h.request(RefillDocument, { id: refill }, { key: BOB });
    const nowhere = await h.request(RefillDocument, { id: NOWHERE }, { key: BOB });
    expect(codes(theirs)).toEqual(['NOT_FOUND']);
    expect(theirs.errors![0]!.message).toBe(nowhere.errors![0]!.message);
    const watched = await collectSse(h.url, RefillStatusDocument, { id: refill }, { key: BOB });
    expect(watched[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(h.calls()).toBe(0);
  });

  it('follows a refill to its end over WebSocket and SSE, and ends with a rejected one', async () => {
    const orders = [await place(h, { refill: true, cancel: false }), await place(h, { refill: true, cancel: false })];
    h.sandbox.advance(ORDER_DONE_SECONDS);
    const refills: string[] = [];
    for (const orderId of orders) {
      refills.push((await h.request(RefillOrderDocument, { input: { orderId } }, { key: ALICE })).data!.refillOrder.id);
    }
    h.sandbox.forceRefill(Number(refills[1]), { outcome: 'rejected' });
    const client = wsClient(h.url, { authorization: `Bearer ${ALICE}` });
    const overWs = collectWs(client, RefillStatusDocument, { id: refills[0]! }, (event) => {
      if (event.data?.refillStatus.status === 'PENDING') h.sandbox.advance(REFILL_DONE_SECONDS);
    });
    const overSse = collectSse(h.url, RefillStatusDocument, { id: refills[1]! }, { key: ALICE });
    const [ws, sse] = await Promise.all([overWs, overSse]);
    await client.dispose();
    expect(ws.map((event) => event.data!.refillStatus.status)).toEqual(['PENDING', 'COMPLETED']);
    expect(ws.at(-1)!.data!.refillStatus).toMatchObject({ orderId: orders[0], isFinal: true });
    expect(sse.at(-1)!.data!.refillStatus).toMatchObject({ id: refills[1], orderId: orders[1], status: 'REJECTED', isFinal: true });
  });

  it('cancels in one supplier call what may be canceled, and answers every other id with why not', async () => {
    const cancelable = await place(h, { refill: false, cancel: true });
    const fixed = await place(h, { refill: false, cancel: false });
    const bobs = await place(h, { refill: false, cancel: true }, BOB);
    h.sandbox.resetStats();
    const answer = await h.request(CancelOrdersDocument, { ids: [cancelable, fixed, bobs, NOWHERE, cancelable] }, { key: ALICE });
    expect(answer.errors).toBeUndefined();
    expect(h.calls('cancel')).toBe(1);
    const results = answer.data!.cancelOrders;
    expect(results.map(({ orderId, requested }) => [orderId, requested])).toEqual([
      [cancelable, true],
      [fixed, false],
      [bobs, false],
      [NOWHERE, false],
      [cancelable, true],
    ]);
    expect(results[1]!.error).toMatch(/offers no cancel/);
    expect(results[2]!.error).toBe('Order not found');
    expect(results[3]!.error).toBe('Order not found');
    expect(results[2]!.order).toBeNull();
    expect(results[0]!.order?.id).toBe(cancelable);

    h.sandbox.advance(60);
    const after = await h.request(OrderDocument, { id: cancelable }, { key: ALICE });
    expect(after.data!.order!.status).toBe('CANCELED');
  });

  it('refuses an empty, oversized or malformed list of ids for the whole call', async () => {
    h.sandbox.resetStats();
    const ids = Array.from({ length: 101 }, (_, n) => String(n + 1));
    for (const bad of [[], ids, ['12', 'x']]) {
      expect(codes(await h.request(CancelOrdersDocument, { ids: bad }, { key: ALICE }))).toEqual(['BAD_USER_INPUT']);
    }
    expect(h.calls()).toBe(0);
  });
});

describe('refills and cancels, never repeated', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: steady, config: { rateLimit: MANY_REQUESTS } });
  });
  afterAll(() => h.close());

  it('asks for a refill and a cancel once even when the answer is lost, and says the refill may exist', async () => {
    const order = await place(h, { refill: true, cancel: false }, DEMO_KEY);
    const cancelable = await place(h, { refill: false, cancel: true }, DEMO_KEY);
    h.sandbox.advance(ORDER_DONE_SECONDS);
    h.sandbox.resetStats();
    h.sandbox.setFaults({ dropRate: 1, actions: ['refill', 'cancel'] });
    try {
      const refill = await h.request(RefillOrderDocument, { input: { orderId: order } }, { key: DEMO_KEY });
      expect(refill.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', orderMayExist: true });
      const cancel = await h.request(CancelOrdersDocument, { ids: [cancelable] }, { key: DEMO_KEY });
      expect(codes(cancel)).toEqual(['UPSTREAM_UNAVAILABLE']);
    } finally {
      h.sandbox.clearFaults();
    }
    expect(h.calls('refill')).toBe(1);
    expect(h.calls('cancel')).toBe(1);
  });
});

describe('a supplier without refill and cancel', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sandbox: { ...steady, api: 'basic' }, config: { rateLimit: MANY_REQUESTS } });
  });
  afterAll(() => h.close());

  it('says the supplier has no such action, and does not ask again for a while', async () => {
    const order = await place(h, { refill: true, cancel: true }, DEMO_KEY);
    h.sandbox.advance(ORDER_DONE_SECONDS);
    for (let round = 0; round < 2; round += 1) {
      h.sandbox.resetStats();
      const refill = await h.request(RefillOrderDocument, { input: { orderId: order } }, { key: DEMO_KEY });
      const cancel = await h.request(CancelOrdersDocument, { ids: [order] }, { key: DEMO_KEY });
      for (const answer of [refill, cancel]) {
        expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_ERROR', reason: 'UNSUPPORTED_ACTION' });
      }
      expect(h.calls()).toBe(round === 0 ? 2 : 0);
    }
  });
});
