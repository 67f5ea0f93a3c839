import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AddOrderDocument, BalanceDocument, OrderDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { RESELLER_KEY } from '../support/keys.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    config: {
      upstreamTimeoutMs: 1500,
      cacheTtlSeconds: { categories: 300, services: 0, inventory: 5, smsCountries: 600, smsProjects: 300 },
    },
  });
});
afterAll(() => h.close());
beforeEach(() => {
  h.sandbox.clearFaults();
  h.sandbox.setQuirks({ stringNumbers: false, booleansAs01: false, statusCase: 'as-is' });
  h.sandbox.resetStats();
});

describe('tolerant parsing', () => {
  it('reads numbers sent as strings, booleans as 0/1 and lowercase statuses', async () => {
    const plain = (await h.request(ServicesPageDocument, { first: 500 })).data!.services;
    h.sandbox.setQuirks({ stringNumbers: true, booleansAs01: true, statusCase: 'lower' });
    const quirky = await h.request(ServicesPageDocument, { first: 500 });
    expect(quirky.errors).toBeUndefined();
    expect(quirky.data!.services).toEqual(plain);

    const service = plain.edges.find((edge) => edge.node.entityType === 'SMM')!.node;
    const placed = await h.request(AddOrderDocument, { input: { serviceId: service.id, quantity: service.min, link: 'https://a.b' } });
    const order = await h.request(OrderDocument, { id: placed.data!.addOrder.id });
    expect(order.data!.order).toMatchObject({ status: 'PENDING', rawStatus: 'pending', autoDelivery: true });
  });

  it('maps a status it does not know to UNKNOWN and keeps the raw string', async () => {
    const service = (await h.request(ServicesPageDocument, { first: 1, category: 'YouTube' })).data!.services.edges[0]!.node;
    const placed = await h.request(AddOrderDocument, { input: { serviceId: service.id, quantity: service.min, link: 'https://a.b' } });
    h.sandbox.forceOrder(Number(placed.data!.addOrder.id), { rawStatus: 'Refilling' });
    const order = await h.request(OrderDocument, { id: placed.data!.addOrder.id });
    expect(order.data!.order).toMatchObject({ status: 'UNKNOWN', rawStatus: 'Refilling', isFinal: false });
  });

  it('maps errors sent with HTTP 200 by their text, keeping the text', async () => {
    h.sandbox.setFaults({ error200Rate: 1, error200Message: 'Not enough funds', actions: ['balance'] });
    const response = await h.request(BalanceDocument);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_BALANCE', upstreamMessage: 'Not enough funds' });
    h.sandbox.setFaults({ error200Rate: 1, error200Message: 'Account is suspended', actions: ['balance'] });
    const other = await h.request(BalanceDocument);
    expect(other.errors?.[0]).toMatchObject({ message: 'Account is suspended', extensions: { code: 'UPSTREAM_ERROR' } });
    // A panel that says it is down, with HTTP 200: try again later, not a final error (it was UPSTREAM_ERROR).
    h.sandbox.setFaults({ error200Rate: 1, error200Message: 'Panel under maintenance', actions: ['balance'] });
    const down = await h.request(BalanceDocument);
    expect(down.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstreamMessage: 'Panel under maintenance' });
  });
});

describe('upstream failures', () => {
  it('retries a read through transient 5xx answers and malformed bodies', async () => {
    h.sandbox.setFaults({ serverErrorRate: 1, actions: ['balance'], count: 1 });
    expect((await h.request(BalanceDocument)).data!.balance.amount).toMatch(/\d/);
    expect(h.calls('balance')).toBe(2);
    h.sandbox.resetStats();
    h.sandbox.setFaults({ malformedRate: 1, actions: ['balance'], count: 2 });
    expect((await h.request(BalanceDocument)).errors).toBeUndefined();
    expect(h.calls('balance')).toBe(3);
  });

  it('gives up after two retries with UPSTREAM_UNAVAILABLE', async () => {
    h.sandbox.setFaults({ serverErrorRate: 1, actions: ['balance'] });
    expect(codes(await h.request(BalanceDocument))).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(h.calls('balance')).toBe(3);
  });

  it("answers a 429 with RATE_LIMITED and the supplier's Retry-After, never retries it, and calls nothing for that key until the window passed", async () => {
    h.sandbox.setFaults({ tooManyRequestsRate: 1, actions: ['balance'], count: 1 });
    const limited = await h.request(BalanceDocument);
    expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(h.calls('balance')).toBe(1);
    expect(codes(await h.request(BalanceDocument))).toEqual(['RATE_LIMITED']);
    expect(h.calls('balance')).toBe(1);
    expect((await h.request(BalanceDocument, {}, { key: RESELLER_KEY })).errors).toBeUndefined();
    await expect.poll(async () => (await h.request(BalanceDocument)).errors, { timeout: 5000, interval: 250 }).toBeUndefined();
  });

  it('gives up at the deadline with UPSTREAM_UNAVAILABLE', async () => {
    h.sandbox.setFaults({ latencyMs: 3000, actions: ['balance'] });
    const started = Date.now();
    expect(codes(await h.request(BalanceDocument))).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(Date.now() - started).toBeLessThan(2900);
  });

  it('serves the last catalogue while the supplier fails, and says so', async () => {
    const fresh = await h.request(ServicesPageDocument, { first: 3 });
    expect(fresh.extensions).toBeUndefined();
    h.sandbox.setFaults({ serverErrorRate: 1, actions: ['services'] });
    const stale = await h.request(ServicesPageDocument, { first: 3 });
    expect(stale.errors).toBeUndefined();
    expect(stale.data).toEqual(fresh.data);
    expect(stale.extensions).toMatchObject({ stale: { catalogue: true, reads: [{ action: 'services' }] } });
  });

  it('retries a read on a dropped connection twice, then reports UPSTREAM_UNAVAILABLE', async () => {
    h.sandbox.setFaults({ dropRate: 1, actions: ['status'] });
    const response = await h.request(OrderDocument, { id: '1' });
    expect(codes(response)).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(h.calls('status')).toBe(3);
  });
});
