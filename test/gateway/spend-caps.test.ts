/**
 * Spend caps of signed-in customers: exact decimals, an estimate given back only when nothing was
 * placed, a backend placing past a customer's cap, and two gateways on one Redis letting through
 * no more than the cap between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddOrderDocument, CustomerRentNumberDocument, MeDocument } from '../generated/graphql.ts';
import { MANY_REQUESTS, startHarness, type Harness } from '../support/harness.ts';
import { startIdentity, trusting, type IdentityProvider } from '../support/identity.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';

const SHOP = 's3cret-shop-1';
/** 10.00 per 1,000: 10 units cost 0.10, 20 units 0.20. */
const TEN_PER_THOUSAND = '1309';
/** 0.10 per 1,000: 100 units cost 0.01. */
const TENTH_PER_THOUSAND = '1057';
const place = (serviceId: string, quantity: number, extra: Record<string, unknown> = {}) => ({
  input: { serviceId, quantity, link: 'https://x.com/i/status/1', ...extra },
});

describe('spend caps', () => {
  let idp: IdentityProvider;
  let h: Harness;

  beforeAll(async () => {
    idp = await startIdentity();
    h = await startHarness({
      config: {
        serverKey: DEMO_KEY,
        gatewayTokens: [`shop:${SHOP}`],
        jwt: trusting(idp),
        spendLimitPerDay: '0.30',
        rateLimit: MANY_REQUESTS,
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('admits 0.10 + 0.20 under a cap of 0.30 and refuses the next 0.01, saying the limit, what is spent and when it resets', async () => {
    const alice = (await idp.tokenFor('alice')).accessToken;
    expect((await h.request(AddOrderDocument, place(TEN_PER_THOUSAND, 10), { key: alice })).errors).toBeUndefined();
    expect((await h.request(AddOrderDocument, place(TEN_PER_THOUSAND, 20), { key: alice })).errors).toBeUndefined();
    h.sandbox.resetStats();
    const refused = await h.request(AddOrderDocument, place(TENTH_PER_THOUSAND, 100), { key: alice });
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'INSUFFICIENT_BALANCE',
      reason: 'SPEND_LIMIT',
      limit: '0.30',
      spent: '0.30',
      resetsAt: midnight.toISOString(),
    });
    expect(h.calls('add')).toBe(0);
    // The estimate would give the wholesale rate away to a customer without account:read.
    expect(refused.errors![0]!.extensions!.estimate).toBeUndefined();
    expect(refused.errors![0]!.message).not.toContain('0.01');
    const me = await h.request(MeDocument, {}, { key: alice });
    expect(me.data!.me.spendLimit).toMatchObject({ limit: '0.30', spent: '0.30', remaining: '0.00' });
  });

  it("reads a customer's own limit from its token, and lets a backend place for it past the limit", async () => {
    const bob = (await idp.tokenFor('bob')).accessToken;
    const me = await h.request(MeDocument, {}, { key: bob });
    expect(me.data!.me.spendLimit).toMatchObject({ limit: '14.50', spent: '0.00' });
    const past = place(TEN_PER_THOUSAND, 2000);
    const refused = await h.request(AddOrderDocument, past, { key: bob });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_BALANCE', reason: 'SPEND_LIMIT' });
    const forBob = await h.request(AddOrderDocument, place(TEN_PER_THOUSAND, 2000, { onBehalfOf: 'customer-bob' }), { key: SHOP });
    expect(forBob.errors).toBeUndefined();
    expect((await h.request(MeDocument, {}, { key: bob })).data!.me.spendLimit?.spent).toBe('0.00');
  });

  it('gives the estimate back when the supplier refused the order, and keeps it when the answer was lost', async () => {
    const carol = (await idp.tokenFor('carol')).accessToken;
    const spent = async () => (await h.request(MeDocument, {}, { key: carol })).data!.me.spendLimit!.spent;
    h.sandbox.setFaults({ error200Rate: 1, error200Message: 'Not enough funds', actions: ['add'], count: 1 });
    const refused = await h.request(AddOrderDocument, place(TEN_PER_THOUSAND, 10), { key: carol });
    expect(refused.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_BALANCE');
    expect(await spent()).toBe('0.00');
    h.sandbox.setFaults({ dropRate: 1, actions: ['add'], count: 1 });
    const lost = await h.request(AddOrderDocument, place(TEN_PER_THOUSAND, 10), { key: carol });
    expect(lost.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', orderMayExist: true });
    expect(await spent()).toBe('0.10');
    h.sandbox.clearFaults();
  });

  it('counts SMS rentals against the cap at their price', async () => {
    const bob = (await idp.tokenFor('bob')).accessToken;
    const rented = await h.request(CustomerRentNumberDocument, { input: { projectId: '65f75df7ec32b396a2b3b275' } }, { key: bob });
    expect(rented.errors).toBeUndefined();
    const spent = (await h.request(MeDocument, {}, { key: bob })).data!.me.spendLimit!.spent;
    expect(Number(spent)).toBeGreaterThan(0);
    expect(Number(spent)).toBeLessThan(14.5);
  });
});

describe.skipIf(!redisPresent)('spend caps across two gateways on one Redis', () => {
  let idp: IdentityProvider;
  let redis: RedisServer;
  let first: Harness;
  let second: Harness;

  beforeAll(async () => {
    idp = await startIdentity();
    redis = await startRedis();
    const config = {
      serverKey: DEMO_KEY,
      gatewayTokens: [`shop:${SHOP}`],
      jwt: trusting(idp),
      redisUrl: redis.url,
      rateLimit: MANY_REQUESTS,
    };
    first = await startHarness({ config });
    second = await startHarness({ config, upstream: first.sandbox });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await redis?.close();
    await idp?.close();
  });

  it('counts a day past 10,000 exactly (the sum never goes through Lua as 1.2e+14)', async () => {
    const { spends } = first.gateway.runtime.state;
    const big = 123_456_700_000_000n; // 12,345.67 in units of 10^-10
    const limit = 9_000_000_000_000_000n; // 900,000
    expect(await spends.reserve('t', 'customer:big', '2026-12-06', big, limit)).toEqual({ reserved: true, spent: big });
    expect(await spends.reserve('t', 'customer:big', '2026-12-06', limit, limit)).toEqual({ reserved: false, spent: big });
    expect(await spends.spent('t', 'customer:big', '2026-12-06')).toBe(big);
  });

  it('lets 50 concurrent placements of 1.00 against a cap of 14.50 pass 14 at most between them', async () => {
    const bob = (await idp.tokenFor('bob')).accessToken;
    first.sandbox.resetStats();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, n) => (n % 2 ? first : second).request(AddOrderDocument, place(TEN_PER_THOUSAND, 100), { key: bob })),
    );
    const placed = answers.filter((answer) => !answer.errors);
    const refused = answers.filter((answer) => answer.errors?.[0]?.extensions?.reason === 'SPEND_LIMIT');
    expect(placed.length).toBe(14);
    expect(refused.length).toBe(36);
    expect(first.calls('add')).toBe(14);
    const me = await second.request(MeDocument, {}, { key: bob });
    expect(me.data!.me.spendLimit).toMatchObject({ limit: '14.50', spent: '14.00' });
  });
});
