import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { RESELLER_KEY } from '../support/keys.ts';
import { balanceOf, money, orderStatus, startSandbox } from '../support/sandbox.ts';
import { act, SMM_DONE_SECONDS, smmOrder, steady } from './family.ts';

const cancelOf = (sandbox: Sandbox, orders: string) => act<unknown[]>(sandbox, 'cancel', { orders });

describe('cancel', () => {
  it('answers per order: 1 when asked, else its own error', async () => {
    const sandbox = await startSandbox(steady);
    const cancelable = await smmOrder(sandbox, { cancel: true });
    const fixed = await smmOrder(sandbox, { cancel: false });
    expect(await cancelOf(sandbox, `9,${cancelable},${fixed}`)).toEqual([
      { order: 9, cancel: { error: 'Incorrect order ID' } },
      { order: cancelable, cancel: 1 },
      { order: fixed, cancel: { error: 'Cancel is not available for this service' } },
    ]);
    expect(await act(sandbox, 'cancel', { orders: String(fixed) }, RESELLER_KEY)).toEqual([
      { order: fixed, cancel: { error: 'Incorrect order ID' } },
    ]);
    expect(await act(sandbox, 'cancel', {})).toEqual({ error: 'Order ID is required' });
  });

  it('refuses an order that is already final', async () => {
    const sandbox = await startSandbox(steady);
    const order = await smmOrder(sandbox, { cancel: true });
    sandbox.advance(SMM_DONE_SECONDS);
    expect(await cancelOf(sandbox, String(order))).toEqual([{ order, cancel: { error: 'Order is already finished' } }]);
  });

  it('ends a pending order Canceled 10 sandbox seconds later and refunds its whole charge', async () => {
    const sandbox = await startSandbox(steady);
    const before = await balanceOf(sandbox);
    const order = await smmOrder(sandbox, { cancel: true });
    await cancelOf(sandbox, String(order));
    expect((await orderStatus(sandbox, order)).status).toBe('Pending');
    expect(await cancelOf(sandbox, String(order))).toEqual([{ order, cancel: 1 }]);
    sandbox.advance(10);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Canceled', remains: 1000 });
    expect(await balanceOf(sandbox)).toBe(before);
  });

  it('keeps what a running order delivered and refunds the rest', async () => {
    const sandbox = await startSandbox(steady);
    const before = new Big(await balanceOf(sandbox));
    const order = await smmOrder(sandbox, { cancel: true });
    const { charge } = await orderStatus(sandbox, order);
    sandbox.advance(65);
    const { remains } = await orderStatus(sandbox, order);
    expect(remains).toBeGreaterThan(0);
    expect(remains).toBeLessThan(1000);
    await cancelOf(sandbox, String(order));
    sandbox.advance(30);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Canceled', remains });
    const refund = new Big(charge).times(remains).div(1000).round(4, Big.roundHalfUp);
    expect(await balanceOf(sandbox)).toBe(money(before.minus(charge).plus(refund)));
  });

  it('says Refunded in the panel flavour', async () => {
    const sandbox = await startSandbox({ ...steady, flavour: 'panel' });
    const order = await smmOrder(sandbox, { cancel: true });
    expect(await cancelOf(sandbox, String(order))).toEqual([{ order, cancel: 1 }]);
    sandbox.advance(10);
    expect((await orderStatus(sandbox, order)).status).toBe('Refunded');
    expect(await balanceOf(sandbox)).toBe('2,500.00000');
  });
});
