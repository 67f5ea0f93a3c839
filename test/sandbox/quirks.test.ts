import { describe, expect, it } from 'vitest';
import { DEMO_KEY } from '../support/keys.ts';
import { admin, call, findService, orderStatus, placeOrder, startSandbox, type SmsProject } from '../support/sandbox.ts';

describe('quirks', () => {
  it('sends every number as a string when stringNumbers is on', async () => {
    const sandbox = await startSandbox();
    const smm = await findService(sandbox, (service) => service.entityType === 'smm');
    sandbox.setQuirks({ stringNumbers: true });
    const page = await call(sandbox, { key: DEMO_KEY, action: 'services', limit: 1 });
    expect(page).toMatchObject({ total: expect.any(String), page: '1', limit: '1', total_pages: expect.any(String) });
    expect(page.services).toEqual([
      expect.objectContaining({
        service: String(smm.service),
        min: String(smm.min),
        stock: String(smm.stock),
        refill: smm.refill,
      }),
    ]);
    const added = await call(sandbox, { key: DEMO_KEY, action: 'add', service: smm.service, quantity: smm.min, link: 'x' });
    expect(added).toEqual({ order: '100001' });
    expect(await call(sandbox, { key: DEMO_KEY, action: 'status', order: 100001 })).toMatchObject({
      remains: String(smm.min),
      start_count: expect.stringMatching(/^\d+$/),
    });
  });

  it('sends booleans as 1 and 0 when booleansAs01 is on, as "1" and "0" with stringNumbers too', async () => {
    const sandbox = await startSandbox();
    const soldOut = await findService(sandbox, (service) => service.entityType === 'product' && service.stock === 0);
    const inventory = { key: DEMO_KEY, action: 'inventory', service: soldOut.service };
    sandbox.setQuirks({ booleansAs01: true });
    expect(await call(sandbox, inventory)).toMatchObject({ available: 0, autoDelivery: soldOut.autoDelivery ? 1 : 0 });
    sandbox.setQuirks({ booleansAs01: true, stringNumbers: true });
    expect(await call(sandbox, inventory)).toMatchObject({ available: '0', stock: '0' });
  });

  it('changes the case of statuses, but not of a forced raw status', async () => {
    const sandbox = await startSandbox({ partialShare: 0, cancelShare: 0 });
    const smm = await findService(sandbox, (service) => service.entityType === 'smm' && service.min <= 1000);
    const order = await placeOrder(sandbox, { service: smm.service, quantity: Math.max(smm.min, 100), link: 'x' });
    sandbox.setQuirks({ statusCase: 'upper' });
    expect((await orderStatus(sandbox, order)).status).toBe('PENDING');
    sandbox.advance(31);
    sandbox.setQuirks({ statusCase: 'lower' });
    expect((await orderStatus(sandbox, order)).status).toBe('in progress');
    sandbox.forceOrder(order, { rawStatus: 'Processing' });
    expect((await orderStatus(sandbox, order)).status).toBe('Processing');
    const [project] = await call<SmsProject[]>(sandbox, { key: DEMO_KEY, action: 'sms_projects' });
    const rented = await call<{ orders: { order: number }[] }>(sandbox, {
      key: DEMO_KEY,
      action: 'add_sms',
      project_id: project?.project_id ?? '',
    });
    sandbox.setQuirks({ statusCase: 'upper' });
    const sms = rented.orders[0]?.order ?? 0;
    expect(await call(sandbox, { key: DEMO_KEY, action: 'sms_status', order: sms })).toMatchObject({ status: 'ACTIVE' });
  });

  it('takes quirks from the admin endpoint, and drops them on DELETE', async () => {
    const sandbox = await startSandbox();
    const set = await admin(sandbox, 'POST', '/quirks', { stringNumbers: true });
    expect(set.status).toBe(200);
    expect(await call(sandbox, { key: DEMO_KEY, action: 'services', limit: 1 })).toMatchObject({ page: '1' });
    expect((await admin(sandbox, 'DELETE', '/quirks')).status).toBe(200);
    expect(await call(sandbox, { key: DEMO_KEY, action: 'services', limit: 1 })).toMatchObject({ page: 1 });
  });

  it('refuses quirks it does not know, with 400', async () => {
    const sandbox = await startSandbox();
    const unknown = await admin(sandbox, 'POST', '/quirks', { snakeCase: true });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({ error: expect.stringContaining('snakeCase') });
    expect((await admin(sandbox, 'POST', '/quirks', { statusCase: 'title' })).status).toBe(400);
    expect(() => sandbox.setQuirks({ stringNumbers: 'yes' as unknown as boolean })).toThrow(/true or false/);
  });
});
