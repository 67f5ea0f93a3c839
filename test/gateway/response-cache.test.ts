/**
 * Whole answers to catalogue queries kept and served before the GraphQL pipeline, with ETag and
 * 304; never an answer a caller must not share, never one tenant's answer to another.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalanceDocument, OrderDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { DEMO_KEY, type Harness, RESELLER_KEY, codes, startHarness } from '../harness.ts';

const page = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 3, category: 'Instagram' } });

const post = (h: Harness, body: string, key: string, headers: Record<string, string> = {}) =>
  fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body });

describe('response cache', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('answers a repeated catalogue read from its kept answer, with an ETag, and 304 to a client that has it', async () => {
    const first = await post(h, page, DEMO_KEY);
    const body = await first.text();
    const second = await post(h, page, DEMO_KEY);
    const etag = second.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(await second.text()).toBe(body);
    const revalidated = await post(h, page, DEMO_KEY, { 'if-none-match': etag! });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
  });

  it("keeps each tenant's answers apart", async () => {
    const demo = (await (await post(h, page, DEMO_KEY)).json()) as { data: { services: { edges: Array<{ node: { rate: string } }> } } };
    const reseller = (await (await post(h, page, RESELLER_KEY)).json()) as typeof demo;
    expect(reseller.data.services.edges[0]!.node.rate).not.toBe(demo.data.services.edges[0]!.node.rate);
  });

  it('never keeps the balance', async () => {
    const before = (await h.request(BalanceDocument)).data!.balance.amount;
    await h.placeOrder();
    expect((await h.request(BalanceDocument)).data!.balance.amount).not.toBe(before);
  });
});

describe('response cache in server-key mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { serverKey: DEMO_KEY, gatewayTokens: ['alice:a-1', 'bob:b-2'] } });
  });
  afterAll(() => h.close());

  it("never serves one caller's order to another, even for the same document", async () => {
    const id = await h.placeOrder({ key: 'a-1' });
    expect((await h.request(OrderDocument, { id }, { key: 'a-1' })).data!.order).toMatchObject({ id });
    expect((await h.request(OrderDocument, { id }, { key: 'a-1' })).data!.order).toMatchObject({ id });
    expect(codes(await h.request(OrderDocument, { id }, { key: 'b-2' }))).toEqual(['NOT_FOUND']);
  });
});
