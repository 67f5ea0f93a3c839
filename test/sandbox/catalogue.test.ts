import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY, RESELLER_KEY } from '../support/keys.ts';
import { allServices, call, errorOf, form, startSandbox, type ServicesPage } from '../support/sandbox.ts';

interface Categories {
  categories: { category: string; subcategories: string[] }[];
}

const services = (sandbox: Sandbox, fields: Record<string, string | number> = {}) =>
  call<ServicesPage>(sandbox, { key: DEMO_KEY, action: 'services', ...fields });

describe('categories', () => {
  it('lists SMM platforms and product categories, each with its subcategories', async () => {
    const sandbox = await startSandbox();
    const { categories } = await call<Categories>(sandbox, { key: DEMO_KEY, action: 'categories' });
    expect(categories.map((entry) => entry.category)).toEqual([
      'Instagram',
      'TikTok',
      'YouTube',
      'Telegram',
      'X (Twitter)',
      'Facebook',
      'Spotify',
      'Email Accounts',
      'Social Accounts',
    ]);
    expect(categories.find((entry) => entry.category === 'Email Accounts')?.subcategories).toEqual(['Gmail', 'Outlook', 'Yahoo']);
  });
});

describe('services', () => {
  it('returns every service when limit is absent, with page and limit equal to total', async () => {
    const sandbox = await startSandbox();
    const page = await services(sandbox);
    expect(page.total).toBeGreaterThanOrEqual(200);
    expect(page.services).toHaveLength(page.total);
    expect({ page: page.page, limit: page.limit, total_pages: page.total_pages }).toEqual({
      page: page.total,
      limit: page.total,
      total_pages: 1,
    });
    expect(await services(sandbox, { limit: 0 })).toEqual(page);
  });

  it('describes each service with the documented fields and types', async () => {
    const sandbox = await startSandbox();
    const { services: list } = await services(sandbox);
    expect(new Set(list.map((service) => service.service)).size).toBe(list.length);
    for (const service of list) {
      expect(Object.keys(service)).toEqual([
        'service',
        'name',
        'type',
        'category',
        'rate',
        'min',
        'max',
        'refill',
        'cancel',
        'dripfeed',
        'stock',
        'entityType',
        'autoDelivery',
      ]);
      expect(service.rate).toMatch(/^\d+\.\d{2,4}$/);
      expect(Number.isInteger(service.min) && service.min >= 1 && service.min <= service.max).toBe(true);
    }
    const smm = list.filter((service) => service.entityType === 'smm');
    const products = list.filter((service) => service.entityType === 'product');
    expect(smm.every((service) => service.autoDelivery && (service.max >= 500 || service.type === 'Package'))).toBe(true);
    expect(products.some((service) => service.stock === 0)).toBe(true);
    expect(products.some((service) => !service.autoDelivery)).toBe(true);
    expect(products.every((service) => service.min === 1 && service.stock <= 200)).toBe(true);
  });

  it('pages with page and limit, total_pages rounding up', async () => {
    const sandbox = await startSandbox();
    const all = await services(sandbox);
    const first = await services(sandbox, { page: 1, limit: 50 });
    const second = await services(sandbox, { page: 2, limit: 50 });
    expect(first).toMatchObject({ total: all.total, page: 1, limit: 50, total_pages: Math.ceil(all.total / 50) });
    expect(first.services).toEqual(all.services.slice(0, 50));
    expect(second.services).toEqual(all.services.slice(50, 100));
    const last = await services(sandbox, { page: first.total_pages, limit: 50 });
    expect(last.services).toHaveLength(all.total - 50 * (first.total_pages - 1));
  });

  it('answers a page past the end with no services and the right totals', async () => {
    const sandbox = await startSandbox();
    const all = await services(sandbox);
    const past = await services(sandbox, { page: 99, limit: 50 });
    const total_pages = Math.ceil(all.total / 50);
    expect(past).toEqual({ services: [], total: all.total, page: 99, limit: 50, total_pages });
  });

  it('answers an unknown category or subcategory with an empty list and zero totals', async () => {
    const sandbox = await startSandbox();
    const empty = { services: [], total: 0, page: 0, limit: 0, total_pages: 0 };
    expect(await services(sandbox, { category: 'Myspace' })).toEqual(empty);
    expect(await services(sandbox, { subcategory: 'Pokes' })).toEqual(empty);
    expect(await services(sandbox, { category: 'Myspace', limit: 10 })).toEqual({
      ...empty,
      page: 1,
      limit: 10,
    });
  });

  it('filters by category name from categories, not by the label a service carries', async () => {
    const sandbox = await startSandbox();
    const email = await services(sandbox, { category: 'Email Accounts' });
    expect(email.total).toBeGreaterThan(0);
    expect(email.services.every((service) => service.category === 'Accounts-Email')).toBe(true);
    expect((await services(sandbox, { category: 'Accounts-Email' })).total).toBe(0);
  });

  it('filters by subcategory across categories, and by both together', async () => {
    const sandbox = await startSandbox();
    const followers = await services(sandbox, { subcategory: 'Followers' });
    const categories = new Set(followers.services.map((service) => service.category));
    expect(categories).toEqual(new Set(['Instagram', 'TikTok', 'X (Twitter)', 'Facebook', 'Spotify']));
    const instagram = await services(sandbox, { category: 'Instagram', subcategory: 'Followers' });
    expect(instagram.total).toBeGreaterThan(0);
    expect(instagram.services).toEqual(followers.services.filter((service) => service.category === 'Instagram'));
    const gmail = await services(sandbox, { subcategory: 'Gmail' });
    expect(gmail.services.every((service) => service.name.startsWith('Gmail Account'))).toBe(true);
  });

  it('falls back to the defaults for a page or limit that is not a whole number', async () => {
    const sandbox = await startSandbox();
    const all = await services(sandbox);
    expect(await services(sandbox, { limit: 'ten' })).toEqual(all);
    expect(await services(sandbox, { limit: -5 })).toEqual(all);
    expect(await services(sandbox, { limit: 2.5 })).toEqual(all);
    const firstPage = await services(sandbox, { limit: 10 });
    expect(await services(sandbox, { limit: 10, page: 'x' })).toEqual(firstPage);
    expect(await services(sandbox, { limit: 10, page: -2 })).toEqual(firstPage);
    expect(await services(sandbox, { limit: 10, page: 0 })).toEqual(firstPage);
  });
});

describe('inventory', () => {
  it('answers live stock and availability of a service', async () => {
    const sandbox = await startSandbox();
    const list = await allServices(sandbox);
    const soldOut = list.find((service) => service.entityType === 'product' && service.stock === 0);
    const smm = list.find((service) => service.entityType === 'smm');
    expect(await call(sandbox, { key: DEMO_KEY, action: 'inventory', service: soldOut?.service ?? 0 })).toEqual({
      service: soldOut?.service,
      stock: 0,
      available: false,
      entityType: 'product',
      autoDelivery: soldOut?.autoDelivery,
    });
    expect(await call(sandbox, { key: DEMO_KEY, action: 'inventory', service: smm?.service ?? 0 })).toMatchObject({
      available: true,
      entityType: 'smm',
      autoDelivery: true,
    });
  });

  it('needs a service ID and a service that exists', async () => {
    const sandbox = await startSandbox();
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'inventory' })).toBe('Service ID is required');
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'inventory', service: '' })).toBe('Service ID is required');
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'inventory', service: 999999 })).toBe('Service not found');
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'inventory', service: 'abc' })).toBe('Service not found');
  });
});

describe('per-key catalogue views', () => {
  it('shows the reseller its own rates and no Spotify', async () => {
    const sandbox = await startSandbox();
    const demo = await allServices(sandbox, DEMO_KEY);
    const reseller = await allServices(sandbox, RESELLER_KEY);
    expect(reseller.some((service) => service.category === 'Spotify')).toBe(false);
    expect(reseller).toHaveLength(demo.filter((service) => service.category !== 'Spotify').length);
    const demoRates = new Map(demo.map((service) => [service.service, service.rate]));
    for (const service of reseller) {
      const expected = new Big(demoRates.get(service.service) ?? '0').times('0.8').round(4, Big.roundHalfUp);
      expect(new Big(service.rate).eq(expected)).toBe(true);
    }
    const { categories } = await call<Categories>(sandbox, { key: RESELLER_KEY, action: 'categories' });
    expect(categories.map((entry) => entry.category)).not.toContain('Spotify');
  });

  it('does not let the reseller reach a hidden service by its ID', async () => {
    const sandbox = await startSandbox();
    const spotify = (await allServices(sandbox)).find((service) => service.category === 'Spotify');
    const id = spotify?.service ?? 0;
    expect(await errorOf(sandbox, { key: RESELLER_KEY, action: 'inventory', service: id })).toBe('Service not found');
    expect(await errorOf(sandbox, { key: RESELLER_KEY, action: 'add', service: id, quantity: spotify?.min ?? 1, link: 'x' })).toBe(
      'Service not found',
    );
  });
});

describe('determinism', () => {
  const body = async (seed: number) => {
    const sandbox = await startSandbox({ seed });
    const response = await fetch(sandbox.url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'services' }) });
    const projects = await fetch(sandbox.url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'sms_projects' }) });
    return (await response.text()) + (await projects.text());
  };

  it('gives identical catalogues for the same seed and different ones for another', async () => {
    const first = await body(7);
    expect(await body(7)).toBe(first);
    expect(await body(8)).not.toBe(first);
  });
});
