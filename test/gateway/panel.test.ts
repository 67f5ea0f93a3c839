/**
 * The gateway in front of either panel of the family the sandbox plays: HstockPlus, and a panel
 * written elsewhere (`flavour: 'panel'`: amounts with thousands separators, no `categories` or
 * `inventory` action, no stock fields, filters ignored, Refunded and Fail, outages said with HTTP
 * 200, refusals with HTTP 4xx). What a supplier says is read whatever its spelling; what it does
 * not say is null, never invented.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlavourName } from '../../src/sandbox/flavours.ts';
import {
  AddOrderDocument,
  BalanceDocument,
  CategoriesDocument,
  CategoryServicesDocument,
  OrderDocument,
  OrdersDocument,
  OrderStatusDocument,
  ServiceInventoryDocument,
  ServicesPageDocument,
} from '../generated/graphql.ts';
import { codes, MANY_REQUESTS, startHarness, type Harness } from '../support/harness.ts';
import { collectSse } from '../support/subscribe.ts';

const flavours: FlavourName[] = ['hstock', 'panel'];

describe.each(flavours)('in front of the %s flavour', (flavour) => {
  let h: Harness;
  beforeAll(async () => {
    // A hundred placements and their reads: past the default request rate of one tenant.
    h = await startHarness({ sandbox: { flavour }, config: { orderPollMs: 20, orderPollMaxMs: 50, rateLimit: MANY_REQUESTS } });
  });
  afterAll(() => h.close());

  const catalogue = async () => (await h.request(ServicesPageDocument, { first: 500 })).data!.services;
  const metric = async (name: string) => {
    const text = await (await fetch(new URL('/metrics', h.url))).text();
    return [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce((sum, match) => sum + Number(match[2]), 0);
  };

  it('reads the balance whatever its spelling, counted as an ok call', async () => {
    const { data, errors } = await h.request(BalanceDocument);
    expect(errors).toBeUndefined();
    expect(data!.balance).toEqual({ amount: flavour === 'panel' ? '2500.00000' : '1000.00', currency: 'USD' });
    expect(await metric('hstock_upstream_parse_failures_total')).toBe(0);
  });

  it('lists every service, one with a rate over 1,000 included, and places an order of it with its charge read', async () => {
    const services = await catalogue();
    expect(services.totalCount).toBe(services.edges.length);
    const priciest = services.edges.map((edge) => edge.node).sort((a, b) => Number(b.rate) - Number(a.rate))[0]!;
    if (flavour === 'panel') expect(priciest.rate).toBe('1250.00000');
    const placed = await h.request(AddOrderDocument, {
      input: { serviceId: priciest.id, quantity: priciest.min, link: 'https://youtube.com/c/x' },
    });
    expect(placed.errors).toBeUndefined();
    const order = await h.request(OrderDocument, { id: placed.data!.addOrder.id });
    expect(order.data!.order!.charge?.amount).toMatch(/^\d+\.\d+$/);
    if (flavour === 'panel') expect(order.data!.order!.charge!.amount).toBe('1250.00000');
  });

  it('ends an order the supplier calls Refunded or Fail: final, and its subscription completes', async () => {
    for (const outcome of ['canceled', 'failed'] as const) {
      const id = await h.placeOrder();
      h.sandbox.forceOrder(Number(id), { outcome });
      h.sandbox.advance(60); // past its pending time, when a refused order ends
      const events = await collectSse(h.url, OrderStatusDocument, { id }, { signal: AbortSignal.timeout(10_000) });
      expect(events.at(-1)?.data?.orderStatus).toMatchObject({ id, status: 'CANCELED', isFinal: true });
      const order = await h.request(OrderDocument, { id });
      expect(order.data!.order).toMatchObject({
        status: 'CANCELED',
        isFinal: true,
        rawStatus: flavour === 'panel' ? (outcome === 'failed' ? 'Fail' : 'Refunded') : 'Canceled',
      });
    }
  });

  it('lists categories, from the services when the supplier has no categories action', async () => {
    const { data, errors } = await h.request(CategoriesDocument);
    expect(errors).toBeUndefined();
    const names = data!.categories.map((category) => category.name);
    expect(names).toContain('Instagram');
    const services = await h.request(CategoryServicesDocument, { name: 'Instagram', first: 500 });
    expect(services.errors).toBeUndefined();
    expect(services.data!.category!.services.edges.length).toBeGreaterThan(0);
    if (flavour === 'panel') expect(data!.categories.every((category) => category.subcategories.length === 0)).toBe(true);
  });

  it('filters services by category even when the supplier ignores the filter', async () => {
    const { data } = await h.request(ServicesPageDocument, { first: 500, category: 'Instagram' });
    const categories = new Set(data!.services.edges.map((edge) => edge.node.category));
    expect(categories).toEqual(new Set(['Instagram']));
    expect(data!.services.totalCount).toBeLessThan((await catalogue()).totalCount);
  });

  it('says null for stock and delivery the supplier does not give, and for an inventory it has no action for', async () => {
    const services = (await catalogue()).edges.map((edge) => edge.node);
    const product = services.find((service) => service.entityType === 'PRODUCT') ?? services[0]!;
    const read = await h.request(ServiceInventoryDocument, { id: product.id });
    expect(read.errors).toBeUndefined();
    expect(read.data!.service!.id).toBe(product.id);
    if (flavour === 'panel') {
      expect(services.every((service) => service.stock === null && service.autoDelivery === null)).toBe(true);
      expect(read.data!.service!.inventory).toBeNull();
    } else {
      expect(services.every((service) => typeof service.stock === 'number')).toBe(true);
      expect(read.data!.service!.inventory).toMatchObject({ serviceId: product.id });
    }
  });

  it('answers orders(ids:) with 100 ids in full', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 100; n += 1) ids.push(await h.placeOrder());
    const answer = await h.request(OrdersDocument, { ids });
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.orders.map((order) => order?.id)).toEqual(ids);
  }, 60_000);

  it('takes an outage said with HTTP 200 for a reason to retry, not a final error', async () => {
    h.sandbox.setFaults({ error200Rate: 1, actions: ['balance'] });
    try {
      const response = await h.request(BalanceDocument);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: flavour === 'panel' ? 'UPSTREAM_UNAVAILABLE' : expect.any(String) });
      if (flavour === 'panel')
        expect(response.errors?.[0]?.extensions?.upstreamMessage).toBe('Database connection failed. Please try again later.');
    } finally {
      h.sandbox.clearFaults();
    }
  });

  it('refuses a malformed order id before any supplier call', async () => {
    h.sandbox.resetStats();
    for (const id of ['abc', '12a', '-1', '1.5']) expect(codes(await h.request(OrderDocument, { id }))).toEqual(['BAD_USER_INPUT']);
    expect(h.calls()).toBe(0);
  });
});
