import { describe, expect, it } from 'vitest';
import { DEMO_KEY, RESELLER_KEY } from '../support/keys.ts';
import { form, orderStatus, startSandbox } from '../support/sandbox.ts';
import { act, smmOrder, steady } from './family.ts';

const ids = (count: number) => Array.from({ length: count }, (_, index) => 100001 + index).join(',');

describe('status with orders=', () => {
  it('answers an object keyed by id, each the single-order shape, an unknown id with its own error', async () => {
    const sandbox = await startSandbox(steady);
    const first = await smmOrder(sandbox, {});
    const second = await smmOrder(sandbox, {});
    const theirs = await smmOrder(sandbox, {});
    const answer = await act<Record<string, unknown>>(sandbox, 'status', { orders: `${first},999,${second},x` });
    expect(Object.keys(answer).sort()).toEqual([String(first), String(second), '999', 'x'].sort());
    expect(answer[String(first)]).toEqual(await orderStatus(sandbox, first));
    expect(answer[String(second)]).toEqual(await orderStatus(sandbox, second));
    expect(answer['999']).toEqual({ error: 'Incorrect order ID' });
    expect(answer.x).toEqual({ error: 'Incorrect order ID' });
    const other = await act<Record<string, unknown>>(sandbox, 'status', { orders: `${theirs}` }, RESELLER_KEY);
    expect(other).toEqual({ [theirs]: { error: 'Incorrect order ID' } });
  });

  it('follows each order through its life cycle like order= does', async () => {
    const sandbox = await startSandbox(steady);
    const order = await smmOrder(sandbox, {});
    sandbox.advance(200);
    const answer = await act<Record<string, { status: string; remains: number }>>(sandbox, 'status', { orders: String(order) });
    expect(answer[order]).toMatchObject({ status: 'Completed', remains: 0 });
  });

  it('takes 100 ids and refuses 101 for the whole call', async () => {
    const sandbox = await startSandbox();
    const hundred = await act<Record<string, unknown>>(sandbox, 'status', { orders: ids(100) });
    expect(Object.keys(hundred)).toHaveLength(100);
    expect(await act(sandbox, 'status', { orders: ids(101) })).toEqual({ error: 'At most 100 IDs per request' });
  });

  it('in the panel flavour, answers the same shape with its own words and a 400 for 101 ids', async () => {
    const sandbox = await startSandbox({ ...steady, flavour: 'panel' });
    const order = await smmOrder(sandbox, {});
    const answer = await act<Record<string, { status: string; charge: string }>>(sandbox, 'status', { orders: `${order},5` });
    expect(answer[order]?.charge).toMatch(/^\d{1,3}(,\d{3})*\.\d{5}$/);
    expect(answer['5']).toEqual({ error: 'Incorrect order ID' });
    const response = await fetch(sandbox.url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'status', orders: ids(101) }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'At most 100 IDs per request' });
  });

  it('leaves order= as it was', async () => {
    const sandbox = await startSandbox(steady);
    const order = await smmOrder(sandbox, {});
    expect(await act(sandbox, 'status', { order })).toEqual(await orderStatus(sandbox, order));
    expect(await act(sandbox, 'status', { orders: ' , ' })).toEqual({ error: 'Order ID is required' });
  });
});
