/** The terms of an order by its service's type: what it counts, what it is charged for, what it is refused for. */
import { describe, expect, it } from 'vitest';
import { estimateCharge } from '../../src/placement/money.ts';
import { orderedQuantity, orderTerms } from '../../src/placement/order-terms.ts';
import type { NewOrder, Service } from '../../src/supplier/types.ts';

const service = (type: string, terms: Partial<Service> = {}): Service => ({
  id: '7',
  name: 'A service',
  type,
  category: 'Instagram',
  subcategory: null,
  rate: '1.25',
  min: 10,
  max: 1000,
  refill: false,
  cancel: false,
  stock: null,
  entityType: 'SMM',
  autoDelivery: true,
  dripfeed: false,
  ...terms,
});

const order = (fields: Omit<NewOrder, 'serviceId'>): NewOrder => ({ serviceId: '7', link: 'https://x.com/p', ...fields });
const field = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as { extensions: { code: string; field: string } }).extensions;
  }
  throw new Error('not refused');
};

describe('orderTerms', () => {
  it('reads a type it does not know as Default', () => {
    const unknown = service('Custom Likes');
    expect(orderTerms(order({ quantity: 50 }), unknown)).toEqual({ quantity: 50, units: 50, flat: false });
    expect(field(() => orderTerms(order({}), unknown))).toEqual({ code: 'BAD_USER_INPUT', field: 'quantity' });
    expect(field(() => orderTerms(order({ quantity: 50, comments: ['a'] }), unknown))).toMatchObject({ field: 'comments' });
  });

  it('charges a drip-feed for every run, and a Package its rate whatever it holds', () => {
    const drip = orderTerms(order({ quantity: 100, runs: 4, interval: 30 }), service('Default', { dripfeed: true }));
    expect(drip).toEqual({ quantity: 100, units: 400, flat: false });
    expect(estimateCharge(service('Default'), drip)).toBe('0.5');
    const pack = orderTerms(order({}), service('Package', { min: 1, max: 1 }));
    expect(estimateCharge(service('Package'), pack)).toBe('1.25');
  });

  it('takes an expiry only on a day that exists', () => {
    const subscription = { username: 'natgeo', min: 10, max: 20, delay: 0 };
    const subscriptions = service('Subscriptions');
    expect(orderTerms({ serviceId: '7', subscription: { ...subscription, expiry: '2028-02-29' } }, subscriptions).units).toBe(20);
    const refused = field(() => orderTerms({ serviceId: '7', subscription: { ...subscription, expiry: '2027-02-29' } }, subscriptions));
    expect(refused).toMatchObject({ field: 'subscription.expiry' });
  });
});

describe('orderedQuantity', () => {
  it('counts what the order sent, else what its type counts', () => {
    expect(orderedQuantity(order({ quantity: 30, runs: 2, interval: 5 }))).toBe(30);
    expect(orderedQuantity(order({ comments: ['a', 'b', 'c'] }))).toBe(3);
    expect(orderedQuantity(order({ usernames: ['a', 'b'], hashtags: ['#x', '#y', '#z'] }))).toBe(2);
    expect(orderedQuantity({ serviceId: '7', subscription: { username: 'u', min: 10, max: 40, posts: 3, delay: 0 } })).toBe(120);
    expect(orderedQuantity(order({}))).toBe(1);
  });
});
