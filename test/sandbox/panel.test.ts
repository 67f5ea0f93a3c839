import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { DEMO_KEY, EMPTY_KEY, RESELLER_KEY } from '../support/keys.ts';
import {
  admin,
  allServices,
  balanceOf,
  call,
  form,
  orderStatus,
  placeOrder,
  startSandbox,
  type Fields,
  type ServicesPage,
  type SmsOrders,
  type SmsProject,
  type SmsStatus,
} from '../support/sandbox.ts';

const startPanel = (options: SandboxOptions = {}) => startSandbox({ flavour: 'panel', ...options });

interface Reply {
  status: number;
  type: string | null;
  body: unknown;
}

/** The panel's answers carry their meaning in the HTTP status too, so these tests read both. */
async function reply(sandbox: Sandbox, fields: Fields): Promise<Reply> {
  const response = await fetch(sandbox.url, { method: 'POST', body: form(fields) });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
}

const GROUPED = /^\d{1,3}(,\d{3})*\.\d{5}$/;

/** The panel's way of printing an amount, written apart from the sandbox's own formatter. */
const grouped = (amount: Big.BigSource) => new Big(amount).toFixed(5).replace(/\B(?=(\d{3})+\.)/g, ',');
const FAMILY_FIELDS = ['service', 'name', 'type', 'category', 'rate', 'min', 'max', 'refill', 'cancel', 'dripfeed'];
const PREMIUM = 'YouTube Subscribers [Premium Package] [Monetization Ready]';

async function premiumOf(sandbox: Sandbox, key = DEMO_KEY) {
  const premium = (await allServices(sandbox, key)).find((service) => service.name === PREMIUM);
  if (!premium) throw new Error('the panel lists no premium package');
  return premium;
}

describe('the panel flavour: amounts', () => {
  it('prints balances with thousands separators and 5 decimals, under the same keys as HstockPlus', async () => {
    const sandbox = await startPanel();
    expect(await call(sandbox, { key: DEMO_KEY, action: 'balance' })).toEqual({ balance: '2,500.00000', currency: 'USD' });
    expect(await balanceOf(sandbox, RESELLER_KEY)).toBe('1,250.00000');
    expect(await balanceOf(sandbox, EMPTY_KEY)).toBe('0.00000');
  });

  it('prints every service rate the same way, a premium package at 1,000 and more among them', async () => {
    const sandbox = await startPanel();
    const services = await allServices(sandbox);
    for (const service of services) expect(service.rate).toMatch(GROUPED);
    expect((await premiumOf(sandbox)).rate).toBe('1,250.00000');
    expect((await premiumOf(sandbox, RESELLER_KEY)).rate).toBe('1,000.00000');
  });

  it('charges an order over 1,000 from the demo balance and prints charge and balance with separators', async () => {
    const sandbox = await startPanel();
    const premium = await premiumOf(sandbox);
    const link = 'https://youtube.com/c/x';
    const order = await placeOrder(sandbox, { service: premium.service, quantity: 1000, link });
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Pending', charge: '1,250.00000' });
    expect(await balanceOf(sandbox)).toBe('1,250.00000');
  });

  it('prints SMS prices and charges the same way', async () => {
    const sandbox = await startPanel({ smsNoCodeShare: 0 });
    const projects = await call<SmsProject[]>(sandbox, { key: DEMO_KEY, action: 'sms_projects', country: 'gb' });
    for (const project of projects) expect(project.price).toMatch(GROUPED);
    const [project] = projects;
    const project_id = project?.project_id ?? '';
    const rented = await call<SmsOrders>(sandbox, { key: DEMO_KEY, action: 'add_sms', project_id });
    const order = rented.orders[0]?.order ?? 0;
    const sms = await call<SmsStatus>(sandbox, { key: DEMO_KEY, action: 'sms_status', order });
    expect(sms.charge).toBe(project?.price);
    expect(await balanceOf(sandbox)).toBe(grouped(new Big(2500).minus(project?.price.replaceAll(',', '') ?? 0)));
  });
});

describe('the panel flavour: catalogue', () => {
  it('has no categories and no inventory action: HTTP 400 Unknown action', async () => {
    const sandbox = await startPanel();
    for (const action of ['categories', 'inventory', 'nope']) {
      expect(await reply(sandbox, { key: DEMO_KEY, action, service: 1001 })).toMatchObject({
        status: 400,
        body: { error: 'Unknown action' },
      });
    }
  });

  it('lists services with the family fields only: no stock, entityType or autoDelivery', async () => {
    const sandbox = await startPanel();
    for (const service of await allServices(sandbox)) {
      expect(Object.keys(service)).toEqual(FAMILY_FIELDS);
    }
  });

  it('ignores category and subcategory filters and lists every service', async () => {
    const sandbox = await startPanel();
    const services = (fields: Fields) => call<ServicesPage>(sandbox, { key: DEMO_KEY, action: 'services', ...fields });
    const all = await services({});
    const filters: Fields[] = [{ category: 'Instagram' }, { subcategory: 'Gmail' }, { category: 'Myspace', subcategory: 'Pokes' }];
    for (const filter of filters) {
      expect(await services(filter)).toEqual(all);
    }
    expect(new Set(all.services.map((service) => service.category)).size).toBeGreaterThan(5);
  });

  it('lists the seeded services HstockPlus lists under the same ids, then the premium package, then the typed ones', async () => {
    const hstock = await startSandbox({ seed: 7 });
    const panel = await startPanel({ seed: 7 });
    const name = (service: { service: number; name: string }) => `${service.service} ${service.name}`;
    const seeded = (await allServices(hstock)).map(name);
    const listed = (await allServices(panel)).map(name);
    const typed = seeded.filter((entry) => /^50\d\d /.test(entry));
    expect(typed.length).toBeGreaterThan(10);
    expect(listed.slice(0, -typed.length - 1)).toEqual(seeded.slice(0, -typed.length));
    expect(listed.at(-typed.length - 1)).toMatch(/ YouTube Subscribers \[Premium Package\]/);
    expect(listed.slice(-typed.length)).toEqual(typed);
  });
});

describe('the panel flavour: order statuses', () => {
  const steady = { partialShare: 0, cancelShare: 0 };

  async function smmOrder(sandbox: Sandbox, quantity = 1000): Promise<number> {
    const premium = await premiumOf(sandbox);
    return placeOrder(sandbox, { service: premium.service, quantity, link: 'x' });
  }

  it('goes Pending, Processing, In progress, then Completed', async () => {
    const sandbox = await startPanel(steady);
    const order = await smmOrder(sandbox);
    expect((await orderStatus(sandbox, order)).status).toBe('Pending');
    sandbox.advance(30);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Processing', remains: 1000 });
    sandbox.advance(1);
    const running = await orderStatus(sandbox, order);
    expect(running.status).toBe('In progress');
    expect(running.remains).toBeLessThan(1000);
    sandbox.advance(3600);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Completed', remains: 0 });
  });

  it('says Refunded where HstockPlus says Canceled, by itself or forced, with the whole charge back', async () => {
    const sandbox = await startPanel({ partialShare: 0, cancelShare: 1 });
    const order = await smmOrder(sandbox);
    sandbox.advance(31);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Refunded', remains: 1000 });
    expect(await balanceOf(sandbox)).toBe('2,500.00000');

    const forced = await startPanel(steady);
    const running = await smmOrder(forced);
    forced.advance(40);
    forced.forceOrder(running, { outcome: 'canceled' });
    expect((await orderStatus(forced, running)).status).toBe('Refunded');
    expect(await balanceOf(forced)).toBe('2,500.00000');
  });

  it('ends Fail when forced to fail, in code or on the admin endpoint, with the whole charge back', async () => {
    const sandbox = await startPanel(steady);
    const first = await smmOrder(sandbox);
    sandbox.forceOrder(first, { outcome: 'failed' });
    const second = await smmOrder(sandbox);
    expect(await balanceOf(sandbox)).toBe('0.00000');
    expect((await admin(sandbox, 'POST', `/orders/${second}`, { outcome: 'failed' })).status).toBe(200);
    expect((await orderStatus(sandbox, first)).status).toBe('Pending');
    sandbox.advance(30);
    for (const order of [first, second]) {
      expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Fail', charge: '1,250.00000', remains: 1000 });
    }
    expect(await balanceOf(sandbox)).toBe('2,500.00000');
    expect(() => sandbox.forceOrder(first, { outcome: 'completed' })).toThrow(/already final/);
  });

  it('ends Partial as HstockPlus does, refunding the undelivered share', async () => {
    const sandbox = await startPanel(steady);
    const order = await smmOrder(sandbox);
    sandbox.forceOrder(order, { outcome: 'partial' });
    sandbox.advance(3600);
    const partial = await orderStatus(sandbox, order);
    expect(partial.status).toBe('Partial');
    const refund = new Big(1250).times(partial.remains).div(1000).round(4, Big.roundHalfUp);
    expect(await balanceOf(sandbox)).toBe(grouped(new Big(1250).plus(refund)));
  });
});

describe('the panel flavour: errors', () => {
  it('refuses with HTTP 4xx statuses and JSON error bodies', async () => {
    const sandbox = await startPanel();
    const order = await placeOrder(sandbox, { service: (await premiumOf(sandbox)).service, quantity: 1000, link: 'x' });
    const cases: [Fields, number, string][] = [
      [{ key: 'nope', action: 'balance' }, 401, 'Invalid API key'],
      [{ key: 'nope', action: 'categories' }, 401, 'Invalid API key'],
      [{ key: DEMO_KEY }, 400, 'Unknown action'],
      [{ key: DEMO_KEY, action: 'status', order: 999999 }, 404, 'Incorrect order ID'],
      [{ key: EMPTY_KEY, action: 'status', order }, 404, 'Incorrect order ID'],
      [{ key: DEMO_KEY, action: 'sms_status', order: 700001 }, 404, 'Incorrect order ID'],
      [{ key: DEMO_KEY, action: 'status', order: 'abc' }, 400, 'Incorrect order ID'],
      [{ key: DEMO_KEY, action: 'status' }, 400, 'Order ID is required'],
      [{ key: DEMO_KEY, action: 'add', service: 999999, quantity: 10, link: 'x' }, 400, 'Service not found'],
      [{ key: DEMO_KEY, action: 'add', service: 1001, link: 'x' }, 400, 'Quantity is required'],
      [{ key: DEMO_KEY, action: 'add_sms', project_id: 'nope' }, 400, 'Project not found'],
    ];
    for (const [fields, status, error] of cases) {
      const answer = await reply(sandbox, fields);
      expect({ fields, status: answer.status, body: answer.body }).toEqual({ fields, status, body: { error } });
      expect(answer.type).toMatch(/^application\/json/);
    }
  });

  it('says an empty balance in its own words', async () => {
    const sandbox = await startPanel();
    const premium = await premiumOf(sandbox);
    const add = { key: EMPTY_KEY, action: 'add', service: premium.service, quantity: 1000, link: 'x' };
    expect(await reply(sandbox, add)).toMatchObject({ status: 400, body: { error: 'Not enough funds' } });
  });

  it('says an outage with HTTP 200 and a database text, unless the fault spec gives its own', async () => {
    const sandbox = await startPanel();
    sandbox.setFaults({ error200Rate: 1 });
    expect(await reply(sandbox, { key: DEMO_KEY, action: 'balance' })).toMatchObject({
      status: 200,
      body: { error: 'Database connection failed. Please try again later.' },
    });
    sandbox.setFaults({ error200Rate: 1, error200Message: 'Panel under maintenance' });
    expect(await call(sandbox, { key: DEMO_KEY, action: 'balance' })).toEqual({ error: 'Panel under maintenance' });
  });
});

describe('the panel flavour: the rest as HstockPlus', () => {
  it('answers add, status and the SMS actions in the same shapes, amounts aside', async () => {
    const hstock = await startSandbox({ smsNoCodeShare: 0 });
    const panel = await startPanel({ smsNoCodeShare: 0 });
    const same = async (fields: Fields) => {
      const [left, right] = await Promise.all([call(hstock, fields), call(panel, fields)]);
      expect(right).toEqual(left);
      return right;
    };
    await same({ key: DEMO_KEY, action: 'sms_countries' });
    await same({ key: DEMO_KEY, action: 'add', service: 1001, quantity: 1000, link: 'x' });
    const [project] = await call<SmsProject[]>(panel, { key: DEMO_KEY, action: 'sms_projects', country: 'us' });
    await same({ key: DEMO_KEY, action: 'add_sms', project_id: project?.project_id ?? '' });
    hstock.advance(60);
    panel.advance(60);
    await same({ key: DEMO_KEY, action: 'sms_code', order: 700001 });
    const status = await call(panel, { key: DEMO_KEY, action: 'status', order: 100001 });
    const reference = await call(hstock, { key: DEMO_KEY, action: 'status', order: 100001 });
    expect({ ...status, charge: reference.charge }).toEqual(reference);
    expect(status.charge).toBe(grouped(String(reference.charge)));
  });
});

describe('choosing the flavour', () => {
  it('tells its flavour in code and on GET /__sandbox/flavour, and nowhere lets it change', async () => {
    const hstock = await startSandbox();
    const panel = await startPanel();
    expect([hstock.flavour, panel.flavour]).toEqual(['hstock', 'panel']);
    expect(await (await admin(hstock, 'GET', '/flavour')).json()).toEqual({ flavour: 'hstock' });
    expect(await (await admin(panel, 'GET', '/flavour')).json()).toEqual({ flavour: 'panel' });
    expect((await admin(panel, 'POST', '/flavour', { flavour: 'hstock' })).status).toBe(405);
  });

  it('refuses a flavour it does not know', async () => {
    const options = { flavour: 'smm' } as unknown as SandboxOptions;
    await expect(createSandbox(options)).rejects.toThrow(/flavour must be one of hstock, panel/);
  });
});
