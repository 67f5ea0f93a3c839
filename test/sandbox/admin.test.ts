import { describe, expect, it } from 'vitest';
import { DEMO_KEY } from '../support/keys.ts';
import { admin, call, findService, form, orderStatus, placeOrder, startSandbox, type SmsProject } from '../support/sandbox.ts';

describe('admin endpoints', () => {
  it('count every API request per action, invalid ones included', async () => {
    const sandbox = await startSandbox();
    await call(sandbox, { key: DEMO_KEY, action: 'services' });
    await call(sandbox, { key: DEMO_KEY, action: 'services' });
    await call(sandbox, { key: 'nope', action: 'status', order: 1 });
    await call(sandbox, { key: DEMO_KEY, action: 'refill' });
    await call(sandbox, { key: DEMO_KEY });
    await fetch(`${sandbox.url}?action=balance`, { method: 'POST', body: form({ key: DEMO_KEY }) });
    await fetch(`${sandbox.origin}/elsewhere`);
    const response = await admin(sandbox, 'GET', '/stats');
    expect(await response.json()).toEqual({ requests: { services: 2, status: 1, refill: 1, '(none)': 1, balance: 1 } });
    expect(sandbox.stats()).toEqual({ requests: { services: 2, status: 1, refill: 1, '(none)': 1, balance: 1 } });
  });

  it('reset the counts on POST /stats/reset, and in code', async () => {
    const sandbox = await startSandbox();
    await call(sandbox, { key: DEMO_KEY, action: 'balance' });
    expect((await admin(sandbox, 'POST', '/stats/reset')).status).toBe(200);
    expect(sandbox.stats()).toEqual({ requests: {} });
    await call(sandbox, { key: DEMO_KEY, action: 'balance' });
    sandbox.resetStats();
    expect(await (await admin(sandbox, 'GET', '/stats')).json()).toEqual({ requests: {} });
  });

  it('move the clock forward', async () => {
    const sandbox = await startSandbox({ partialShare: 0, cancelShare: 0 });
    const smm = await findService(sandbox, (service) => service.entityType === 'smm');
    const order = await placeOrder(sandbox, { service: smm.service, quantity: smm.min, link: 'x' });
    expect((await admin(sandbox, 'POST', '/clock', { advanceSeconds: 7200 })).status).toBe(200);
    expect((await orderStatus(sandbox, order)).status).toBe('Completed');
  });

  it('force order and SMS outcomes and statuses', async () => {
    const sandbox = await startSandbox({ partialShare: 0, cancelShare: 0, smsNoCodeShare: 0 });
    const smm = await findService(sandbox, (service) => service.entityType === 'smm');
    const order = await placeOrder(sandbox, { service: smm.service, quantity: smm.min, link: 'x' });
    const forced = await admin(sandbox, 'POST', `/orders/${order}`, { outcome: 'canceled', rawStatus: 'Cancelled' });
    expect(forced.status).toBe(200);
    sandbox.advance(60);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Cancelled', remains: smm.min });
    expect(await call(sandbox, { key: DEMO_KEY, action: 'balance' })).toMatchObject({ balance: '1000.00' });

    const [project] = await call<SmsProject[]>(sandbox, { key: DEMO_KEY, action: 'sms_projects' });
    const rented = await call<{ orders: { order: number }[] }>(sandbox, {
      key: DEMO_KEY,
      action: 'add_sms',
      project_id: project?.project_id ?? '',
    });
    const sms = rented.orders[0]?.order ?? 0;
    expect((await admin(sandbox, 'POST', `/sms/${sms}`, { outcome: 'no_code' })).status).toBe(200);
    sandbox.advance(1200);
    expect(await call(sandbox, { key: DEMO_KEY, action: 'sms_status', order: sms })).toMatchObject({ status: 'expired' });
  });

  it('answer bad input with 400, unknown orders with 404 and final ones with 409', async () => {
    const sandbox = await startSandbox({ partialShare: 0, cancelShare: 0 });
    const smm = await findService(sandbox, (service) => service.entityType === 'smm');
    const order = await placeOrder(sandbox, { service: smm.service, quantity: smm.min, link: 'x' });
    const statusOf = async (method: string, path: string, body?: unknown) => (await admin(sandbox, method, path, body)).status;
    expect(await statusOf('POST', '/clock', { advanceSeconds: -5 })).toBe(400);
    expect(await statusOf('POST', '/clock', {})).toBe(400);
    expect(await statusOf('POST', '/clock', 'not json')).toBe(400);
    expect(await statusOf('POST', `/orders/${order}`, { outcome: 'lost' })).toBe(400);
    expect(await statusOf('POST', '/sms/1', { outcome: 'code' })).toBe(404);
    expect(await statusOf('POST', '/orders/1', { outcome: 'partial' })).toBe(404);
    sandbox.advance(7200);
    const final = await admin(sandbox, 'POST', `/orders/${order}`, { outcome: 'partial' });
    expect(final.status).toBe(409);
    expect(await final.json()).toEqual({ error: `order ${order} is already final` });
    expect(await statusOf('GET', '/nothing')).toBe(404);
    expect(await statusOf('DELETE', '/stats')).toBe(405);
  });

  it('refuse to move the clock back or by something that is not a number, in code too', async () => {
    const sandbox = await startSandbox();
    expect(() => sandbox.advance(-1)).toThrow(/0 or more/);
    expect(() => sandbox.advance(Number.NaN)).toThrow(/0 or more/);
  });
});
