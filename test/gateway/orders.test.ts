import Big from 'big.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AddOrderDocument,
  AddOrderWithStatusDocument,
  BalanceDocument,
  OrderDocument,
  OrdersDocument,
  SameOrderTwiceDocument,
  ServiceInventoryDocument,
  ServicesPageDocument,
} from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { EMPTY_KEY, RESELLER_KEY } from '../support/keys.ts';

type Service = NonNullable<Awaited<ReturnType<typeof catalogue>>>[number];

let h: Harness;
let services: Service[];

async function catalogue() {
  const { data } = await h.request(ServicesPageDocument, { first: 500 });
  return data!.services.edges.map((edge) => edge.node);
}

const smm = () => services.find((service) => service.entityType === 'SMM' && service.min >= 10)!;
const product = () => services.find((service) => service.entityType === 'PRODUCT' && service.autoDelivery && (service.stock ?? 0) >= 5)!;

/** The supplier's money: 4 places, half-up, printed with at least 2. */
const toMoney = (amount: Big) => amount.toFixed(4, Big.roundHalfUp).replace(/(\.\d{2}\d*?)0+$/, '$1');

async function balance(key?: string): Promise<string> {
  return (await h.request(BalanceDocument, {}, key ? { key } : {})).data!.balance.amount;
}

beforeAll(async () => {
  h = await startHarness({ sandbox: { timeScale: 1, partialShare: 0, cancelShare: 0 } });
  services = await catalogue();
});
afterAll(() => h.close());
beforeEach(() => h.sandbox.resetStats());

describe('addOrder', () => {
  it('places an SMM order and charges rate x quantity / 1000 exactly', async () => {
    const service = smm();
    const before = await balance();
    const quantity = service.min + 7;
    const { data, errors } = await h.request(AddOrderWithStatusDocument, {
      input: { serviceId: service.id, quantity, link: 'https://instagram.com/p/abc' },
    });
    expect(errors).toBeUndefined();
    const charge = data!.addOrder.charge!.amount;
    expect(charge).toBe(toMoney(new Big(service.rate).times(quantity).div(1000)));
    expect(data!.addOrder).toMatchObject({ status: 'PENDING', rawStatus: 'Pending', isFinal: false, accounts: [] });
    expect(new Big(before).minus(await balance()).toFixed(4)).toBe(new Big(charge).toFixed(4));
    expect(h.calls('add')).toBe(1);
  });

  it('resolves status fields through the loader only when selected', async () => {
    const service = smm();
    const { data } = await h.request(AddOrderDocument, {
      input: { serviceId: service.id, quantity: service.min, link: 'https://x.com/a' },
    });
    expect(data!.addOrder.id).toMatch(/^\d+$/);
    expect(h.calls('status')).toBe(0);
  });

  it('delivers accounts of a product order', async () => {
    const item = product();
    const { data } = await h.request(AddOrderDocument, { input: { serviceId: item.id, quantity: 2 } });
    h.sandbox.advance(600);
    const order = await h.request(OrderDocument, { id: data!.addOrder.id });
    expect(order.data!.order).toMatchObject({ status: 'COMPLETED', entityType: 'PRODUCT', isFinal: true });
    expect(order.data!.order!.accounts).toHaveLength(2);
  });

  it("reads a product's stock live again after an order, for every caller of the key", async () => {
    const item = product();
    const stock = async () => (await h.request(ServiceInventoryDocument, { id: item.id })).data!.service!.inventory!.stock;
    const before = await stock();
    await h.request(AddOrderDocument, { input: { serviceId: item.id, quantity: 2 } });
    h.sandbox.resetStats();
    expect(await stock()).toBe(before - 2);
    expect(h.calls('inventory')).toBe(1);
  });

  it.each([
    ['a zero quantity', { quantity: 0 }, 'BAD_USER_INPUT'],
    ['a negative quantity', { quantity: -5 }, 'BAD_USER_INPUT'],
    ['a quantity under the minimum', { quantity: 1 }, 'BAD_USER_INPUT'],
    ['a quantity over the maximum', { quantity: 2_000_000_000 }, 'BAD_USER_INPUT'],
    ['a missing link', { link: undefined }, 'BAD_USER_INPUT'],
    ['an empty link', { link: '   ' }, 'BAD_USER_INPUT'],
    ['an unknown service', { serviceId: '999999999' }, 'NOT_FOUND'],
    ['an empty service id', { serviceId: '' }, 'BAD_USER_INPUT'],
    ['an empty idempotency key', { idempotencyKey: '' }, 'BAD_USER_INPUT'],
  ])('refuses %s before spending anything', async (_name, patch, code) => {
    const service = smm();
    const before = await balance();
    h.sandbox.resetStats();
    const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/x', ...patch };
    const response = await h.request(AddOrderDocument, { input });
    expect(codes(response)).toEqual([code]);
    expect(response.data).toBeNull();
    expect(h.calls('add')).toBe(0);
    expect(await balance()).toBe(before);
  });

  it('refuses a quantity that is not a 32-bit integer as invalid input', async () => {
    const service = smm();
    const response = await h.request(AddOrderDocument, { input: { serviceId: service.id, quantity: 1e12, link: 'https://a.b' } });
    expect(response.errors?.[0]?.message).toMatch(/Int cannot represent/);
    expect(h.calls()).toBe(0);
  });

  it('refuses a product order over the live stock with OUT_OF_STOCK', async () => {
    const item =
      services.find((service) => service.entityType === 'PRODUCT' && service.max > (service.stock ?? 0)) ??
      services.find((service) => service.entityType === 'PRODUCT' && service.stock === 0);
    expect(item).toBeDefined();
    const quantity = Math.min(item!.max, Math.max(item!.min, (item!.stock ?? 0) + 1));
    const response = await h.request(AddOrderDocument, { input: { serviceId: item!.id, quantity } });
    expect(codes(response)).toEqual(['OUT_OF_STOCK']);
    expect(h.calls('add')).toBe(0);
  });

  it('refuses an order the balance cannot cover with INSUFFICIENT_BALANCE', async () => {
    const service = smm();
    const response = await h.request(
      AddOrderDocument,
      { input: { serviceId: service.id, quantity: service.min, link: 'https://a.b/c' } },
      { key: EMPTY_KEY },
    );
    expect(codes(response)).toEqual(['INSUFFICIENT_BALANCE']);
    expect(h.calls('add')).toBe(0);
    expect(await balance(EMPTY_KEY)).toBe('0.00');
  });

  it('places one order for the same idempotency key sent twice, and returns the same id', async () => {
    const service = smm();
    const input = { serviceId: service.id, quantity: service.min, link: 'https://t.me/x', idempotencyKey: 'once-1' };
    const first = await h.request(AddOrderDocument, { input });
    const again = await h.request(AddOrderDocument, { input });
    expect(again.data!.addOrder.id).toBe(first.data!.addOrder.id);
    expect(h.calls('add')).toBe(1);
  });

  it('places one order for the same idempotency key sent concurrently', async () => {
    const service = smm();
    const input = { serviceId: service.id, quantity: service.min, link: 'https://t.me/y', idempotencyKey: 'burst-1' };
    const before = await balance();
    const responses = await Promise.all(Array.from({ length: 20 }, () => h.request(AddOrderDocument, { input })));
    expect(new Set(responses.map((response) => response.data!.addOrder.id)).size).toBe(1);
    expect(h.calls('add')).toBe(1);
    const charge = toMoney(new Big(service.rate).times(service.min).div(1000));
    expect(new Big(before).minus(await balance()).eq(charge)).toBe(true);
  });

  it('refuses an idempotency key reused with different input', async () => {
    const service = smm();
    const input = { serviceId: service.id, quantity: service.min, link: 'https://t.me/z', idempotencyKey: 'reuse-1' };
    await h.request(AddOrderDocument, { input });
    const response = await h.request(AddOrderDocument, { input: { ...input, quantity: service.min + 1 } });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(h.calls('add')).toBe(1);
  });

  it('keeps idempotency keys per tenant', async () => {
    const service = smm();
    const input = { serviceId: service.id, quantity: service.min, link: 'https://t.me/w', idempotencyKey: 'shared-name' };
    const demo = await h.request(AddOrderDocument, { input });
    const reseller = await h.request(AddOrderDocument, { input }, { key: RESELLER_KEY });
    expect(reseller.errors).toBeUndefined();
    expect(reseller.data!.addOrder.id).not.toBe(demo.data!.addOrder.id);
    expect(h.calls('add')).toBe(2);
  });

  it('never retries an order whose request may have reached the supplier', async () => {
    const service = smm();
    const before = await balance();
    h.sandbox.setFaults({ dropRate: 1, actions: ['add'], count: 1 });
    const input = { serviceId: service.id, quantity: service.min, link: 'https://a.b/drop', idempotencyKey: 'dropped-1' };
    const response = await h.request(AddOrderDocument, { input });
    expect(codes(response)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(response.errors?.[0]?.extensions?.orderMayExist).toBe(true);
    expect(h.calls('add')).toBe(1);
    const repeat = await h.request(AddOrderDocument, { input });
    expect(codes(repeat)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(h.calls('add')).toBe(1);
    h.sandbox.clearFaults();
    expect(new Big(await balance()).lte(before)).toBe(true);
  });
});

describe('order and orders', () => {
  it('follows an order from Pending through In progress to Completed', async () => {
    const service = smm();
    const { data } = await h.request(AddOrderDocument, { input: { serviceId: service.id, quantity: service.min, link: 'https://a.b/1' } });
    const id = data!.addOrder.id;
    expect((await h.request(OrderDocument, { id })).data!.order!.status).toBe('PENDING');
    h.sandbox.advance(45);
    const running = (await h.request(OrderDocument, { id })).data!.order!;
    expect(running.status).toBe('IN_PROGRESS');
    expect(running.startCount).toEqual(expect.any(Number));
    h.sandbox.advance(3600);
    expect((await h.request(OrderDocument, { id })).data!.order).toMatchObject({ status: 'COMPLETED', remains: 0, isFinal: true });
  });

  it('gives one entry per id in order, null with a NOT_FOUND error for an unknown id', async () => {
    const service = smm();
    const placed = await h.request(AddOrderDocument, { input: { serviceId: service.id, quantity: service.min, link: 'https://a.b/2' } });
    const id = placed.data!.addOrder.id;
    const response = await h.request(OrdersDocument, { ids: [id, '424242424', id] });
    expect(response.data!.orders.map((order) => order?.id ?? null)).toEqual([id, null, id]);
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]).toMatchObject({ path: ['orders', 1], extensions: { code: 'NOT_FOUND' } });
  });

  it('refuses 101 ids, and none, before any upstream call', async () => {
    for (const ids of [Array.from({ length: 101 }, (_, i) => String(i + 1)), []]) {
      const response = await h.request(OrdersDocument, { ids });
      expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    }
    expect(h.calls()).toBe(0);
  });

  it('gives null and NOT_FOUND for an unknown order, BAD_USER_INPUT for an id no supplier uses', async () => {
    const unknown = await h.request(OrderDocument, { id: '31337' });
    expect(unknown.data!.order).toBeNull();
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
    const malformed = await h.request(OrderDocument, { id: '12; drop' });
    expect(codes(malformed)).toEqual(['BAD_USER_INPUT']);
  });

  it("never shows one key's order to another", async () => {
    const service = smm();
    const placed = await h.request(AddOrderDocument, { input: { serviceId: service.id, quantity: service.min, link: 'https://a.b/3' } });
    const response = await h.request(OrderDocument, { id: placed.data!.addOrder.id }, { key: EMPTY_KEY });
    expect(codes(response)).toEqual(['NOT_FOUND']);
  });

  it('asks the supplier once for an order named twice in a document', async () => {
    const service = smm();
    const placed = await h.request(AddOrderDocument, { input: { serviceId: service.id, quantity: service.min, link: 'https://a.b/4' } });
    h.sandbox.resetStats();
    const response = await h.request(SameOrderTwiceDocument, { id: placed.data!.addOrder.id });
    expect(response.errors).toBeUndefined();
    expect(h.calls('status')).toBe(1);
  });

  it('keeps charges and refunds exact: the balance moves by the sum of final charges', async () => {
    const fresh = await startHarness({ sandbox: { partialShare: 0, cancelShare: 0 } });
    try {
      const list = (await fresh.request(ServicesPageDocument, { first: 500 })).data!.services.edges.map((edge) => edge.node);
      const picks = list.filter((service) => service.entityType === 'SMM' && service.max >= service.min + 333).slice(0, 6);
      const start = (await fresh.request(BalanceDocument)).data!.balance.amount;
      const ids: string[] = [];
      for (const [i, service] of picks.entries()) {
        const quantity = service.min + 111 * (i + 1);
        const placed = await fresh.request(AddOrderDocument, { input: { serviceId: service.id, quantity, link: `https://a.b/${i}` } });
        ids.push(placed.data!.addOrder.id);
      }
      fresh.sandbox.forceOrder(Number(ids[0]), { outcome: 'partial' });
      fresh.sandbox.forceOrder(Number(ids[1]), { outcome: 'canceled' });
      fresh.sandbox.advance(7200);
      const orders = (await fresh.request(OrdersDocument, { ids })).data!.orders;
      expect(orders.map((order) => order!.status)).toEqual(['PARTIAL', 'CANCELED', 'COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
      // The sandbox refunds a Canceled order's charge and a Partial order's undelivered share (4 places, half-up).
      const [partial] = (await Promise.all([fresh.request(OrderDocument, { id: ids[0]! })])).map((r) => r.data!.order!);
      const quantity0 = picks[0]!.min + 111;
      const refunds = new Big(orders[1]!.charge!.amount).plus(
        new Big(partial!.charge!.amount).times(partial!.remains!).div(quantity0).round(4, Big.roundHalfUp),
      );
      const spent = orders.reduce((sum, order) => sum.plus(order!.charge!.amount), new Big(0)).minus(refunds);
      const end = (await fresh.request(BalanceDocument)).data!.balance.amount;
      expect(new Big(start).minus(end).eq(spent)).toBe(true);
    } finally {
      await fresh.close();
    }
  });
});
