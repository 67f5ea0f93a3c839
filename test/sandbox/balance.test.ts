import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import { DEMO_KEY } from '../support/keys.ts';
import {
  allServices,
  balanceOf,
  call,
  money,
  orderStatus,
  placeOrder,
  startSandbox,
  type SmsOrders,
  type SmsProject,
} from '../support/sandbox.ts';

const KEY = 'odd-rates-key';

describe('balance', () => {
  it('answers the balance and currency of the key', async () => {
    const sandbox = await startSandbox({ keys: [{ key: KEY, balance: '50', currency: 'EUR' }] });
    expect(await call(sandbox, { key: KEY, action: 'balance' })).toEqual({ balance: '50.00', currency: 'EUR' });
    expect(await call(sandbox, { key: DEMO_KEY, action: 'balance' })).toEqual({ error: 'Invalid API key' });
  });

  it('equals start - charges + refunds to the last decimal over many odd orders', async () => {
    const sandbox = await startSandbox({
      keys: [{ key: KEY, balance: '500.00', rateMultiplier: '0.37' }],
      partialShare: 0,
      cancelShare: 0,
      smsNoCodeShare: 0,
    });
    const smm = (await allServices(sandbox, KEY)).filter(
      (service) => service.entityType === 'smm' && service.min <= 1001 && service.max >= 3333,
    );
    const plan = [
      { quantity: 1001, outcome: 'completed' },
      { quantity: 3333, outcome: 'partial' },
      { quantity: 1237, outcome: 'canceled' },
      { quantity: 2999, outcome: 'partial' },
      { quantity: 1111, outcome: 'completed' },
    ] as const;
    let expected = new Big('500.00');
    const orders: { id: number; quantity: number; charge: Big }[] = [];
    for (const [index, step] of plan.entries()) {
      const service = smm[index];
      if (!service) throw new Error('not enough SMM services');
      const id = await placeOrder(sandbox, { service: service.service, quantity: step.quantity, link: 'x' }, KEY);
      const charge = new Big(service.rate).times(step.quantity).div(1000).round(4, Big.roundHalfUp);
      expect((await orderStatus(sandbox, id, KEY)).charge).toBe(money(charge));
      sandbox.forceOrder(id, { outcome: step.outcome });
      expected = expected.minus(charge);
      orders.push({ id, quantity: step.quantity, charge });
    }
    const [project] = await call<SmsProject[]>(sandbox, { key: KEY, action: 'sms_projects', country: 'gb' });
    const rented = await call<SmsOrders>(sandbox, {
      key: KEY,
      action: 'add_sms',
      project_id: project?.project_id ?? '',
      quantity: 3,
    });
    sandbox.forceSms(rented.orders[0]?.order ?? 0, { outcome: 'no_code' });
    expected = expected.minus(new Big(project?.price ?? 0).times(3));
    expect(await balanceOf(sandbox, KEY)).toBe(money(expected));

    sandbox.advance(7200);
    const statuses: string[] = [];
    for (const order of orders) {
      const status = await orderStatus(sandbox, order.id, KEY);
      statuses.push(status.status);
      if (status.status === 'Partial') {
        expected = expected.plus(order.charge.times(status.remains).div(order.quantity).round(4, Big.roundHalfUp));
      } else if (status.status === 'Canceled') {
        expected = expected.plus(order.charge);
      }
    }
    expect(statuses).toEqual(['Completed', 'Partial', 'Canceled', 'Partial', 'Completed']);
    expected = expected.plus(project?.price ?? 0);
    expect(await balanceOf(sandbox, KEY)).toBe(money(expected));
    expect(expected.toFixed(4)).not.toMatch(/0000$/);
  });
});
