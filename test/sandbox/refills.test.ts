import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY, RESELLER_KEY } from '../support/keys.ts';
import { admin, form, startSandbox } from '../support/sandbox.ts';
import { act, SMM_DONE_SECONDS, smmOrder, steady } from './family.ts';

const refillOf = (sandbox: Sandbox, order: number) => act<{ refill?: string; error?: string }>(sandbox, 'refill', { order });
const statusOf = async (sandbox: Sandbox, refill: string | number) =>
  (await act<{ status?: string; error?: string }>(sandbox, 'refill_status', { refill })).status;

async function doneOrder(sandbox: Sandbox, flags: { refill?: boolean; cancel?: boolean }): Promise<number> {
  const order = await smmOrder(sandbox, flags);
  sandbox.advance(SMM_DONE_SECONDS);
  return order;
}

describe('refill', () => {
  it('refills a completed order of a refillable service and answers the refill id as a string', async () => {
    const sandbox = await startSandbox(steady);
    const order = await doneOrder(sandbox, { refill: true });
    expect(await refillOf(sandbox, order)).toEqual({ refill: '300001' });
    expect(await statusOf(sandbox, '300001')).toBe('Pending');
  });

  it('refuses an order that is not final, of a service without refill, another key’s, or one already refilling', async () => {
    const sandbox = await startSandbox(steady);
    const running = await smmOrder(sandbox, { refill: true });
    expect(await refillOf(sandbox, running)).toEqual({ error: 'Only a completed or partial order can be refilled' });
    const plain = await smmOrder(sandbox, { refill: false });
    sandbox.advance(SMM_DONE_SECONDS);
    expect(await refillOf(sandbox, plain)).toEqual({ error: 'Refill is not available for this service' });
    expect(await act(sandbox, 'refill', { order: running }, RESELLER_KEY)).toEqual({ error: 'Order not found' });
    expect(await act(sandbox, 'refill', {})).toEqual({ error: 'Order ID is required' });
    expect(await refillOf(sandbox, running)).toEqual({ refill: '300001' });
    expect(await refillOf(sandbox, running)).toEqual({ error: 'A refill of this order is already in progress' });
    sandbox.advance(180);
    expect(await refillOf(sandbox, running)).toEqual({ refill: '300002' });
  });

  it('refills a Partial order, and no Canceled one', async () => {
    const sandbox = await startSandbox(steady);
    const partial = await smmOrder(sandbox, { refill: true, cancel: true });
    const canceled = await smmOrder(sandbox, { refill: true, cancel: true });
    sandbox.forceOrder(partial, { outcome: 'partial' });
    sandbox.forceOrder(canceled, { outcome: 'canceled' });
    sandbox.advance(SMM_DONE_SECONDS);
    expect(await refillOf(sandbox, partial)).toEqual({ refill: '300001' });
    expect(await refillOf(sandbox, canceled)).toEqual({ error: 'Only a completed or partial order can be refilled' });
  });

  it('takes orders= and answers a list, each order with its refill id or its own error', async () => {
    const sandbox = await startSandbox(steady);
    const order = await doneOrder(sandbox, { refill: true });
    const plain = await doneOrder(sandbox, { refill: false });
    expect(await act(sandbox, 'refill', { orders: `${order},${plain},42` })).toEqual([
      { order, refill: 300001 },
      { order: plain, refill: { error: 'Refill is not available for this service' } },
      { order: 42, refill: { error: 'Incorrect order ID' } },
    ]);
  });
});

describe('refill_status', () => {
  it('goes Pending, In progress, then Completed, on the sandbox clock', async () => {
    const sandbox = await startSandbox({ ...steady, refillRejectShare: 0 });
    const refill = (await refillOf(sandbox, await doneOrder(sandbox, { refill: true }))).refill ?? '';
    expect(await statusOf(sandbox, refill)).toBe('Pending');
    sandbox.advance(30);
    expect(await statusOf(sandbox, refill)).toBe('In progress');
    sandbox.advance(150);
    expect(await statusOf(sandbox, refill)).toBe('Completed');
  });

  it('ends a seeded share Rejected, the same ones for the same seed', async () => {
    const outcomes = async () => {
      const sandbox = await startSandbox({ ...steady, seed: 3 });
      const refills: string[] = [];
      for (let index = 0; index < 20; index++) {
        refills.push((await refillOf(sandbox, await doneOrder(sandbox, { refill: true }))).refill ?? '');
        sandbox.advance(180);
      }
      return Promise.all(refills.map((refill) => statusOf(sandbox, refill)));
    };
    const first = await outcomes();
    expect(new Set(first)).toEqual(new Set(['Completed', 'Rejected']));
    expect(await outcomes()).toEqual(first);
  });

  it('takes refills= and answers a list, an unknown refill with its own error', async () => {
    const sandbox = await startSandbox({ ...steady, refillRejectShare: 0 });
    await refillOf(sandbox, await doneOrder(sandbox, { refill: true }));
    expect(await act(sandbox, 'refill_status', { refills: '300001,7' })).toEqual([
      { refill: 300001, status: 'Pending' },
      { refill: 7, status: { error: 'Refill not found' } },
    ]);
    expect(await act(sandbox, 'refill_status', { refill: 7 })).toEqual({ error: 'Refill not found' });
    expect(await act(sandbox, 'refill_status', { refill: 300001 }, RESELLER_KEY)).toEqual({ error: 'Refill not found' });
    expect(await act(sandbox, 'refill_status', {})).toEqual({ error: 'Refill ID is required' });
  });

  it('is forced to an outcome in code and on POST /__sandbox/refills/:id, not once final', async () => {
    const sandbox = await startSandbox({ ...steady, refillRejectShare: 0 });
    await refillOf(sandbox, await doneOrder(sandbox, { refill: true }));
    sandbox.forceRefill(300001, { outcome: 'rejected' });
    sandbox.advance(180);
    expect(await statusOf(sandbox, 300001)).toBe('Rejected');
    expect(() => sandbox.forceRefill(300001, { outcome: 'completed' })).toThrow('refill 300001 is already final');
    expect((await admin(sandbox, 'POST', '/refills/300001', { rawStatus: 'Refilling' })).status).toBe(200);
    expect(await statusOf(sandbox, 300001)).toBe('Refilling');
    expect((await admin(sandbox, 'POST', '/refills/9', { outcome: 'rejected' })).status).toBe(404);
    expect((await admin(sandbox, 'POST', '/refills/300001', { outcome: 'maybe' })).status).toBe(400);
  });

  it('speaks the same words in the panel flavour, refusing a whole call with HTTP 400', async () => {
    const sandbox = await startSandbox({ ...steady, flavour: 'panel', refillRejectShare: 0 });
    const plain = await doneOrder(sandbox, { refill: false });
    const response = await fetch(sandbox.url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'refill', order: plain }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'Refill is not available for this service' });
    await refillOf(sandbox, await doneOrder(sandbox, { refill: true }));
    sandbox.advance(180);
    expect(await act(sandbox, 'refill_status', { refills: '300001' })).toEqual([{ refill: 300001, status: 'Completed' }]);
  });
});
