import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY, EMPTY_KEY } from '../support/keys.ts';
import {
  balanceOf,
  call,
  errorOf,
  findService,
  money,
  orderStatus,
  placeOrder,
  startSandbox,
  type Fields,
  type ServiceView,
} from '../support/sandbox.ts';

const steady = { partialShare: 0, cancelShare: 0 };

const smmFor = (sandbox: Sandbox, quantity: number) =>
  findService(sandbox, (service) => service.entityType === 'smm' && service.min <= quantity && service.max >= quantity);

const productWhere = (sandbox: Sandbox, auto: boolean, stock = 3) =>
  findService(sandbox, (service) => service.entityType === 'product' && service.autoDelivery === auto && service.stock >= stock);

const stockOf = async (sandbox: Sandbox, service: ServiceView) =>
  (await call<{ stock: number }>(sandbox, { key: DEMO_KEY, action: 'inventory', service: service.service })).stock;

const smmCharge = (rate: string, quantity: number) => new Big(rate).times(quantity).div(1000).round(4, Big.roundHalfUp);

describe('add', () => {
  it('checks service, quantity, link, stock and balance, in that order', async () => {
    const sandbox = await startSandbox();
    const smm = await smmFor(sandbox, 1000);
    const soldOut = await findService(sandbox, (service) => service.entityType === 'product' && service.stock === 0);
    const add = (fields: Fields, key = DEMO_KEY) => errorOf(sandbox, { key, action: 'add', ...fields });
    const range = `Quantity must be between ${smm.min} and ${smm.max}`;
    expect(await add({ quantity: 1000, link: 'x' }, EMPTY_KEY)).toBe('Service ID is required');
    expect(await add({ service: 999999, quantity: 1000, link: 'x' }, EMPTY_KEY)).toBe('Service not found');
    expect(await add({ service: smm.service, link: 'x' }, EMPTY_KEY)).toBe('Quantity is required');
    expect(await add({ service: smm.service, quantity: smm.min - 1, link: 'x' }, EMPTY_KEY)).toBe(range);
    expect(await add({ service: smm.service, quantity: smm.max + 1, link: 'x' }, EMPTY_KEY)).toBe(range);
    expect(await add({ service: smm.service, quantity: 'lots', link: 'x' }, EMPTY_KEY)).toBe(range);
    expect(await add({ service: smm.service, quantity: 1000 }, EMPTY_KEY)).toBe('Link is required');
    expect(await add({ service: soldOut.service, quantity: 1 }, EMPTY_KEY)).toBe('Not enough stock');
    expect(await add({ service: smm.service, quantity: 1000, link: 'x' }, EMPTY_KEY)).toBe('Insufficient balance');
    expect(await balanceOf(sandbox, EMPTY_KEY)).toBe('0.00');
  });

  it('charges rate x quantity / 1000 for SMM and returns increasing order IDs', async () => {
    const sandbox = await startSandbox(steady);
    const smm = await smmFor(sandbox, 1000);
    const link = 'https://instagram.com/p/1';
    const first = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link });
    const second = await placeOrder(sandbox, { service: smm.service, quantity: smm.min, link });
    expect(first).toBe(100001);
    expect(second).toBe(100002);
    const charges = [smmCharge(smm.rate, 1000), smmCharge(smm.rate, smm.min)];
    expect((await orderStatus(sandbox, first)).charge).toBe(money(charges[0]));
    expect(await balanceOf(sandbox)).toBe(money(new Big('1000').minus(charges[0] ?? 0).minus(charges[1] ?? 0)));
  });

  it('lets a product order go without a link and takes its stock at once', async () => {
    const sandbox = await startSandbox();
    const product = await productWhere(sandbox, true);
    await placeOrder(sandbox, { service: product.service, quantity: 3 });
    expect(await stockOf(sandbox, product)).toBe(product.stock - 3);
    const listed = await findService(sandbox, (service) => service.service === product.service);
    expect(listed.stock).toBe(product.stock - 3);
  });

  it('refuses a product order bigger than what is left in stock', async () => {
    const sandbox = await startSandbox();
    const product = await findService(
      sandbox,
      (service) => service.entityType === 'product' && service.stock >= 2 && service.stock <= service.max,
    );
    await placeOrder(sandbox, { service: product.service, quantity: product.stock - 1 });
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'add', service: product.service, quantity: 2 })).toBe('Not enough stock');
  });
});

describe('SMM order life cycle', () => {
  it('goes Pending, then In progress counting remains down, then Completed', async () => {
    const sandbox = await startSandbox(steady);
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    const pending = await orderStatus(sandbox, order);
    expect(pending).toEqual({
      status: 'Pending',
      charge: pending.charge,
      start_count: pending.start_count,
      remains: 1000,
      currency: 'USD',
      autoDelivery: true,
    });
    sandbox.advance(29);
    expect((await orderStatus(sandbox, order)).status).toBe('Pending');
    sandbox.advance(6);
    const early = await orderStatus(sandbox, order);
    expect(early.status).toBe('In progress');
    expect(early.remains).toBeLessThan(1000);
    sandbox.advance(30);
    const later = await orderStatus(sandbox, order);
    expect(later.status).toBe('In progress');
    expect(later.remains).toBeLessThan(early.remains);
    expect(later.remains).toBeGreaterThan(0);
    sandbox.advance(60);
    expect(await orderStatus(sandbox, order)).toEqual({ ...pending, status: 'Completed', remains: 0 });
  });

  it('ends Partial when forced, refunding exactly charge x remains / quantity', async () => {
    const sandbox = await startSandbox(steady);
    const smm = await smmFor(sandbox, 777);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 777, link: 'x' });
    sandbox.forceOrder(order, { outcome: 'partial' });
    sandbox.advance(3600);
    const partial = await orderStatus(sandbox, order);
    expect(partial.status).toBe('Partial');
    expect(partial.remains).toBeGreaterThan(0);
    expect(partial.remains).toBeLessThan(777);
    const charge = new Big(partial.charge);
    const refund = charge.times(partial.remains).div(777).round(4, Big.roundHalfUp);
    expect(await balanceOf(sandbox)).toBe(money(new Big(1000).minus(charge).plus(refund)));
  });

  it('ends Partial by itself for the share of orders given', async () => {
    const sandbox = await startSandbox({ partialShare: 1, cancelShare: 0 });
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    sandbox.advance(3600);
    expect((await orderStatus(sandbox, order)).status).toBe('Partial');
  });

  it('ends Canceled at the end of Pending with the whole charge refunded', async () => {
    const sandbox = await startSandbox({ partialShare: 0, cancelShare: 1 });
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    expect(await balanceOf(sandbox)).not.toBe('1000.00');
    sandbox.advance(29);
    expect((await orderStatus(sandbox, order)).status).toBe('Pending');
    sandbox.advance(2);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Canceled', remains: 1000 });
    expect(await balanceOf(sandbox)).toBe('1000.00');
  });

  it('cancels at once an order forced Canceled while In progress', async () => {
    const sandbox = await startSandbox(steady);
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    sandbox.advance(40);
    sandbox.forceOrder(order, { outcome: 'canceled' });
    expect((await orderStatus(sandbox, order)).status).toBe('Canceled');
    expect(await balanceOf(sandbox)).toBe('1000.00');
  });

  it('refunds a final order in the balance even if nobody asked its status', async () => {
    const sandbox = await startSandbox({ partialShare: 0, cancelShare: 1 });
    const smm = await smmFor(sandbox, 1000);
    await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    sandbox.advance(60);
    expect(await balanceOf(sandbox)).toBe('1000.00');
    expect(await balanceOf(sandbox)).toBe('1000.00');
  });

  it('answers Canceled for an order forced to fail, refunded whole: HstockPlus has no other word', async () => {
    const sandbox = await startSandbox(steady);
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    sandbox.advance(40);
    sandbox.forceOrder(order, { outcome: 'failed' });
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Canceled', remains: 1000 });
    expect(await balanceOf(sandbox)).toBe('1000.00');
  });

  it('runs by itself on a fast clock', async () => {
    const sandbox = await startSandbox({ ...steady, timeScale: 5000 });
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    await expect.poll(async () => (await orderStatus(sandbox, order)).status, { interval: 10, timeout: 2000 }).toBe('Completed');
  });

  it('answers a forced raw status verbatim while the life cycle goes on', async () => {
    const sandbox = await startSandbox(steady);
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    sandbox.forceOrder(order, { rawStatus: 'Processing' });
    sandbox.advance(3600);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Processing', remains: 0 });
  });

  it('refuses to change the outcome of an order that is already final, or of no order', async () => {
    const sandbox = await startSandbox(steady);
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    sandbox.advance(3600);
    expect(() => sandbox.forceOrder(order, { outcome: 'canceled' })).toThrow(/already final/);
    expect(() => sandbox.forceOrder(1, { outcome: 'canceled' })).toThrow(/not found/);
  });
});

describe('product order life cycle', () => {
  it('delivers an automatic product completely after a few seconds', async () => {
    const sandbox = await startSandbox();
    const product = await productWhere(sandbox, true);
    const order = await placeOrder(sandbox, { service: product.service, quantity: 3 });
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Pending', remains: 3, entityType: 'product' });
    expect((await orderStatus(sandbox, order)).accounts).toBeUndefined();
    sandbox.advance(3);
    const done = await orderStatus(sandbox, order);
    expect(done).toMatchObject({ status: 'Completed', remains: 0, entityType: 'product', autoDelivery: true });
    expect(done.accounts).toHaveLength(3);
    for (const account of done.accounts ?? []) expect(account).toMatch(/^[\w.]+(@[\w.]+)?:\S+$/);
  });

  it('delivers a manual product part by part over minutes', async () => {
    const sandbox = await startSandbox();
    const product = await productWhere(sandbox, false);
    const order = await placeOrder(sandbox, { service: product.service, quantity: 3 });
    sandbox.advance(61);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'In progress', remains: 3, autoDelivery: false });
    sandbox.advance(120);
    const first = await orderStatus(sandbox, order);
    expect(first).toMatchObject({ status: 'In progress', remains: 2 });
    sandbox.advance(120);
    expect((await orderStatus(sandbox, order)).accounts).toHaveLength(2);
    sandbox.advance(120);
    const done = await orderStatus(sandbox, order);
    expect(done).toMatchObject({ status: 'Completed', remains: 0 });
    expect(done.accounts?.slice(0, 1)).toEqual(first.accounts);
  });

  it('gives e-mail products e-mail credentials of their provider', async () => {
    const sandbox = await startSandbox();
    const gmail = await findService(sandbox, (service) => service.name.startsWith('Gmail') && service.autoDelivery && service.stock >= 2);
    const order = await placeOrder(sandbox, { service: gmail.service, quantity: 2 });
    sandbox.advance(5);
    for (const account of (await orderStatus(sandbox, order)).accounts ?? []) {
      expect(account).toMatch(/^[\w.]+@gmail\.com:\S+$/);
    }
  });

  it('returns undelivered stock and money when a product order ends Partial', async () => {
    const sandbox = await startSandbox();
    const product = await productWhere(sandbox, true, 5);
    const order = await placeOrder(sandbox, { service: product.service, quantity: 5 });
    sandbox.forceOrder(order, { outcome: 'partial' });
    sandbox.advance(5);
    const partial = await orderStatus(sandbox, order);
    expect(partial.status).toBe('Partial');
    expect(partial.accounts ?? []).toHaveLength(5 - partial.remains);
    expect(await stockOf(sandbox, product)).toBe(product.stock - 5 + partial.remains);
    const charge = new Big(partial.charge);
    const refund = charge.times(partial.remains).div(5).round(4, Big.roundHalfUp);
    expect(await balanceOf(sandbox)).toBe(money(new Big(1000).minus(charge).plus(refund)));
  });
});

describe('status', () => {
  it('needs an order ID that is a whole number and an order of this key', async () => {
    const sandbox = await startSandbox();
    const smm = await smmFor(sandbox, 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: 1000, link: 'x' });
    const status = (fields: Fields, key = DEMO_KEY) => errorOf(sandbox, { key, action: 'status', ...fields });
    expect(await status({})).toBe('Order ID is required');
    expect(await status({ order: 'abc' })).toBe('Incorrect order ID');
    expect(await status({ order: '12.5' })).toBe('Incorrect order ID');
    expect(await status({ order: 999999 })).toBe('Order not found');
    expect(await status({ order }, EMPTY_KEY)).toBe('Order not found');
    expect(await status({ order })).toBeUndefined();
  });
});
