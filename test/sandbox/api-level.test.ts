import { describe, expect, it } from 'vitest';
import { loadSandboxConfig } from '../../src/sandbox/config.ts';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { allServices, call, form, orderStatus, placeOrder, startSandbox } from '../support/sandbox.ts';
import { act, ofType, serviceWhere, smmOrder, steady } from './family.ts';

const startBasic = (flavour: 'hstock' | 'panel' = 'hstock') => startSandbox({ ...steady, api: 'basic', flavour });

const FAMILY = ['refill', 'refill_status', 'cancel'];

describe('SANDBOX_API=basic: a supplier of the seed page alone', () => {
  it('answers the family’s actions as unknown: Invalid action, or HTTP 400 Unknown action in the panel flavour', async () => {
    const hstock = await startBasic();
    for (const action of FAMILY) {
      expect(await act(hstock, action, { order: 100001, orders: '100001', refill: 1 })).toEqual({ error: 'Invalid action' });
    }
    const panel = await startBasic('panel');
    for (const action of FAMILY) {
      const response = await fetch(panel.url, { method: 'POST', body: form({ key: DEMO_KEY, action, orders: '100001' }) });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'Unknown action' });
    }
  });

  it('reads order= and not orders=: an error for the whole call, or the single-order shape when order= comes too', async () => {
    const sandbox = await startBasic();
    const first = await smmOrder(sandbox, {});
    const second = await smmOrder(sandbox, {});
    expect(await act(sandbox, 'status', { orders: `${first},${second}` })).toEqual({ error: 'Order ID is required' });
    expect(await act(sandbox, 'status', { order: first, orders: `${first},${second}` })).toEqual(await orderStatus(sandbox, first));
    const panel = await startBasic('panel');
    const response = await fetch(panel.url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'status', orders: '100001' }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'Order ID is required' });
  });

  it('lists the seeded catalogue alone, every service Default, with no dripfeed field', async () => {
    const basic = await startBasic();
    const full = await startSandbox();
    const services = await allServices(basic);
    expect(services.every((service) => service.type === 'Default' && !('dripfeed' in service))).toBe(true);
    const seeded = (await allServices(full)).filter((service) => service.service < 5001);
    const withoutDripfeed = (service: object) => Object.fromEntries(Object.entries(service).filter(([field]) => field !== 'dripfeed'));
    expect(services).toEqual(seeded.map(withoutDripfeed));
  });

  it('reads quantity and link only: drip-feed fields are ignored and the typed services do not exist', async () => {
    const sandbox = await startBasic();
    const full = await startSandbox();
    const drip = await serviceWhere(full, (service) => service.service < 5001 && service.dripfeed === true);
    const order = await placeOrder(sandbox, { service: drip.service, quantity: drip.min, link: 'x', runs: 5, interval: 'whenever' });
    expect((await orderStatus(sandbox, order)).remains).toBe(drip.min);
    const comments = await ofType(full, 'Custom Comments');
    expect(await act(sandbox, 'add', { service: comments.service, comments: 'a\nb', link: 'x' })).toEqual({ error: 'Service not found' });
  });
});

describe('the api setting', () => {
  it('is full unless SANDBOX_API says basic', () => {
    expect(loadSandboxConfig({}).api).toBe('full');
    expect(loadSandboxConfig({ SANDBOX_API: 'Basic' }).api).toBe('basic');
    expect(() => loadSandboxConfig({ SANDBOX_API: 'v3' })).toThrow('SANDBOX_API must be one of basic, full (got "v3")');
  });

  it('refuses an unknown level in code', async () => {
    await expect(createSandbox({ api: 'v3' as 'full' })).rejects.toThrow('api must be one of basic, full (got "v3")');
  });

  it('balance and the other page actions answer alike on both levels', async () => {
    const answers = async (sandbox: Sandbox) => [
      await call(sandbox, { key: DEMO_KEY, action: 'balance' }),
      await call(sandbox, { key: DEMO_KEY, action: 'categories' }),
      await call(sandbox, { key: DEMO_KEY, action: 'sms_countries' }),
    ];
    expect(await answers(await startBasic())).toEqual(await answers(await startSandbox()));
  });
});
