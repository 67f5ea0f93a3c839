import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BalanceDocument,
  CategoriesDocument,
  CategoryServicesDocument,
  ServiceByIdDocument,
  ServiceInventoryDocument,
  ServicesPageDocument,
} from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY, EMPTY_KEY, RESELLER_KEY } from '../support/keys.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.sandbox.resetStats());

async function allServiceIds(): Promise<string[]> {
  const page = await h.request(ServicesPageDocument, { first: 500 });
  return page.data!.services.edges.map((edge) => edge.node.id);
}

describe('catalogue', () => {
  it('lists categories with their subcategories', async () => {
    const { data, errors } = await h.request(CategoriesDocument);
    expect(errors).toBeUndefined();
    const instagram = data!.categories.find((category) => category.name === 'Instagram');
    expect(instagram?.subcategories.length).toBeGreaterThan(0);
    expect(instagram?.subcategories[0]?.category.name).toBe('Instagram');
  });

  it('serves typed services with decimal rates as strings', async () => {
    const { data } = await h.request(ServicesPageDocument, { first: 500 });
    const services = data!.services.edges.map((edge) => edge.node);
    expect(data!.services.totalCount).toBeGreaterThanOrEqual(200);
    expect(services.every((service) => /^\d+(\.\d+)?$/.test(service.rate))).toBe(true);
    expect(new Set(services.map((service) => service.entityType))).toEqual(new Set(['SMM', 'PRODUCT']));
    expect(services.some((service) => !service.autoDelivery)).toBe(true);
  });

  it('answers 50 services by id with one services call', async () => {
    const ids = (await allServiceIds()).slice(0, 50);
    h.sandbox.resetStats();
    const fields = ids.map((id, i) => `s${i}: service(id: "${id}") { id name }`).join('\n');
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${RESELLER_KEY}` },
      body: JSON.stringify({ query: `{ ${fields} }` }),
    });
    const body = (await response.json()) as { data: Record<string, { id: string }>; errors?: unknown };
    expect(body.errors).toBeUndefined();
    expect(Object.values(body.data).map((service) => service.id)).toEqual(ids);
    expect(h.calls('services')).toBe(1);
  });

  it('makes no upstream call for a repeated query within the TTL', async () => {
    await h.request(ServicesPageDocument, { first: 10 });
    h.sandbox.resetStats();
    await h.request(ServicesPageDocument, { first: 10 });
    await h.request(CategoriesDocument);
    await h.request(CategoriesDocument);
    expect(h.calls()).toBe(h.calls('categories'));
    expect(h.calls('services')).toBe(0);
  });

  it('makes one services call for 200 concurrent identical cold queries', async () => {
    const fresh = await startHarness();
    try {
      const responses = await Promise.all(
        Array.from({ length: 200 }, () => fresh.request(ServicesPageDocument, { first: 5, category: 'TikTok' })),
      );
      expect(responses.every((response) => response.errors === undefined)).toBe(true);
      expect(fresh.calls('services')).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('walks the whole catalogue page by page with one services call per filter', async () => {
    const fresh = await startHarness();
    try {
      const seen: string[] = [];
      let after: string | null | undefined;
      let pages = 0;
      do {
        const { data, errors } = await fresh.request(ServicesPageDocument, { first: 17, after });
        expect(errors).toBeUndefined();
        seen.push(...data!.services.edges.map((edge) => edge.node.id));
        expect(data!.services.pageInfo.hasPreviousPage).toBe(pages > 0);
        after = data!.services.pageInfo.hasNextPage ? data!.services.pageInfo.endCursor : null;
        pages += 1;
      } while (after);
      const total = (await fresh.request(ServicesPageDocument, { first: 0 })).data!.services.totalCount;
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
      expect(pages).toBe(Math.ceil(total / 17));
      await fresh.request(ServicesPageDocument, { first: 17, category: 'Instagram' });
      await fresh.request(ServicesPageDocument, { first: 17, category: 'Instagram', after: null });
      expect(fresh.calls('services')).toBe(2);
    } finally {
      await fresh.close();
    }
  });

  it("filters a category's and a subcategory's services through the supplier's filters", async () => {
    const { data, errors } = await h.request(CategoryServicesDocument, { name: 'instagram', first: 500 });
    expect(errors).toBeUndefined();
    const category = data!.category!;
    expect(category.name).toBe('Instagram');
    expect(category.services.totalCount).toBeGreaterThan(0);
    const inSubcategories = category.subcategories.reduce((sum, sub) => sum + sub.services.totalCount, 0);
    expect(inSubcategories).toBe(category.services.totalCount);
    const ids = new Set(category.services.edges.map((edge) => edge.node.id));
    for (const sub of category.subcategories) {
      for (const edge of sub.services.edges) expect(ids.has(edge.node.id)).toBe(true);
    }
  });

  it('gives null for an unknown category and an empty page for an unknown filter', async () => {
    expect((await h.request(CategoryServicesDocument, { name: 'Myspace' })).data!.category).toBeNull();
    const { data } = await h.request(ServicesPageDocument, { category: 'Myspace' });
    expect(data!.services).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('finds a service by id, and gives null for an unknown one', async () => {
    const [id] = await allServiceIds();
    expect((await h.request(ServiceByIdDocument, { id: id! })).data!.service?.id).toBe(id);
    const unknown = await h.request(ServiceByIdDocument, { id: '999999999' });
    expect(unknown.data!.service).toBeNull();
    expect(unknown.errors).toBeUndefined();
  });

  it('reads live inventory through the cache', async () => {
    const { data } = await h.request(ServicesPageDocument, { first: 500 });
    const product = data!.services.edges.map((edge) => edge.node).find((service) => service.entityType === 'PRODUCT')!;
    h.sandbox.resetStats();
    const first = await h.request(ServiceInventoryDocument, { id: product.id });
    await h.request(ServiceInventoryDocument, { id: product.id });
    expect(first.data!.service!.inventory).toMatchObject({ serviceId: product.id, entityType: 'PRODUCT' });
    expect(h.calls('inventory')).toBe(1);
  });

  it('rejects malformed pagination arguments before any upstream call', async () => {
    const fresh = await startHarness();
    try {
      for (const variables of [
        { first: -1 },
        { first: 501 },
        { after: 'not-a-cursor' },
        { after: '' + Buffer.from('v1:x:1').toString('base64url') },
      ]) {
        const response = await fresh.request(ServicesPageDocument, variables);
        expect(codes(response)).toEqual(['BAD_USER_INPUT']);
      }
      expect(fresh.calls()).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it('rejects an argument of the wrong type with a validation error', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify({ query: '{ services(first: "ten") { totalCount } }' }),
    });
    const body = (await response.json()) as { errors: Array<{ message: string }> };
    expect(body.errors[0]?.message).toMatch(/Int cannot represent/);
  });
});

describe('tenants', () => {
  it('never serve one key the cached catalogue or balance of another', async () => {
    const demo = await h.request(ServicesPageDocument, { first: 500 });
    const reseller = await h.request(ServicesPageDocument, { first: 500 }, { key: RESELLER_KEY });
    const demoRates = new Map(demo.data!.services.edges.map((edge) => [edge.node.id, edge.node.rate]));
    const resellerServices = reseller.data!.services.edges.map((edge) => edge.node);
    expect(resellerServices.some((service) => service.category === 'Spotify')).toBe(false);
    expect(demo.data!.services.edges.some((edge) => edge.node.category === 'Spotify')).toBe(true);
    expect(resellerServices.some((service) => demoRates.get(service.id) !== service.rate)).toBe(true);

    const balances = await Promise.all([h.request(BalanceDocument), h.request(BalanceDocument, {}, { key: EMPTY_KEY })]);
    expect(balances.map((response) => response.data!.balance.amount)).toEqual(['1000.00', '0.00']);
  });
});
