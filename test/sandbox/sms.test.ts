import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY, EMPTY_KEY, RESELLER_KEY } from '../support/keys.ts';
import {
  balanceOf,
  call,
  errorOf,
  money,
  startSandbox,
  type Fields,
  type SmsOrders,
  type SmsProject,
  type SmsStatus,
} from '../support/sandbox.ts';

const projects = (sandbox: Sandbox, fields: Record<string, string> = {}, key = DEMO_KEY) =>
  call<SmsProject[]>(sandbox, { key, action: 'sms_projects', ...fields });

async function projectIn(sandbox: Sandbox, country: string): Promise<SmsProject> {
  const [project] = await projects(sandbox, { country });
  if (!project) throw new Error(`no project in ${country}`);
  return project;
}

const rent = (sandbox: Sandbox, fields: Record<string, string | number>, key = DEMO_KEY) =>
  call<SmsOrders>(sandbox, { key, action: 'add_sms', ...fields });

const smsStatus = (sandbox: Sandbox, order: number, key = DEMO_KEY) => call<SmsStatus>(sandbox, { key, action: 'sms_status', order });

const smsCode = (sandbox: Sandbox, order: number, key = DEMO_KEY) =>
  call<Record<string, string>>(sandbox, { key, action: 'sms_code', order });

const steady = { smsNoCodeShare: 0 };

describe('SMS catalogue', () => {
  it('lists at least ten countries as a bare array', async () => {
    const sandbox = await startSandbox();
    const countries = await call<{ country_code: string; country_name: string }[]>(sandbox, {
      key: DEMO_KEY,
      action: 'sms_countries',
    });
    expect(countries.length).toBeGreaterThanOrEqual(10);
    expect(countries).toContainEqual({ country_code: 'us', country_name: 'United States' });
    expect(countries).toContainEqual({ country_code: 'gb', country_name: 'United Kingdom' });
  });

  it('lists at least fifty projects with hex IDs and 4-decimal prices, one country each', async () => {
    const sandbox = await startSandbox();
    const list = await projects(sandbox);
    expect(list.length).toBeGreaterThanOrEqual(50);
    for (const project of list) {
      expect(Object.keys(project)).toEqual(['project_id', 'name', 'price', 'country_id', 'country_title']);
      expect(project.project_id).toMatch(/^[0-9a-f]{24}$/);
      expect(project.price).toMatch(/^\d+\.\d{4}$/);
    }
    const telegram = list.filter((project) => project.name === 'Telegram');
    expect(new Set(telegram.map((project) => project.country_id)).size).toBe(telegram.length);
    expect(new Set(telegram.map((project) => project.project_id)).size).toBe(telegram.length);
  });

  it('filters projects by country, and knows none in an unknown one', async () => {
    const sandbox = await startSandbox();
    const british = await projects(sandbox, { country: 'gb' });
    expect(british.length).toBeGreaterThan(0);
    expect(british.every((project) => project.country_id === 'gb' && project.country_title === 'United Kingdom')).toBe(true);
    expect(await projects(sandbox, { country: 'zz' })).toEqual([]);
  });

  it('prices projects for the reseller at its own rate', async () => {
    const sandbox = await startSandbox();
    const [demo] = await projects(sandbox);
    const [reseller] = await projects(sandbox, {}, RESELLER_KEY);
    expect(reseller?.price).toBe(new Big(demo?.price ?? 0).times('0.8').toFixed(4));
  });
});

describe('add_sms', () => {
  it('rents a number and charges the project price', async () => {
    const sandbox = await startSandbox();
    const project = await projectIn(sandbox, 'us');
    const { orders } = await rent(sandbox, { project_id: project.project_id });
    const phone = expect.stringMatching(/^\+1\d{10}$/);
    expect(orders).toEqual([{ order: 700001, phone, country: 'us', status: 'active' }]);
    expect(await balanceOf(sandbox)).toBe(money(new Big(1000).minus(project.price)));
  });

  it('rents up to ten numbers at once, all charged', async () => {
    const sandbox = await startSandbox();
    const project = await projectIn(sandbox, 'de');
    const { orders } = await rent(sandbox, { project_id: project.project_id, quantity: 10, country: 'de' });
    expect(orders).toHaveLength(10);
    expect(new Set(orders.map((order) => order.phone)).size).toBe(10);
    expect(orders.every((order) => order.phone.startsWith('+49') && order.country === 'de')).toBe(true);
    expect(await balanceOf(sandbox)).toBe(money(new Big(1000).minus(new Big(project.price).times(10))));
  });

  it('checks project, quantity, country, phone and balance', async () => {
    const sandbox = await startSandbox();
    const project = await projectIn(sandbox, 'us');
    const id = project.project_id;
    const add = (fields: Fields, key = DEMO_KEY) => errorOf(sandbox, { key, action: 'add_sms', ...fields });
    expect(await add({})).toBe('Project ID is required');
    expect(await add({ project_id: 'ffffffffffffffffffffffff' })).toBe('Project not found');
    for (const quantity of [0, 11, -1, 'two', 1.5]) {
      expect(await add({ project_id: id, quantity })).toBe('Quantity must be between 1 and 10');
    }
    expect(await add({ project_id: id, country: 'gb' })).toBe('Country does not match project');
    expect(await add({ project_id: id, country: 'US' })).toBeUndefined();
    expect(await add({ project_id: id, phone: '+15550000000' })).toBe('Phone number not found');
    expect(await add({ project_id: id }, EMPTY_KEY)).toBe('Insufficient balance');
  });

  it('reuses a number this key rented before, for one order on it', async () => {
    const sandbox = await startSandbox();
    const project = await projectIn(sandbox, 'us');
    const [first] = (await rent(sandbox, { project_id: project.project_id })).orders;
    const phone = first?.phone ?? '';
    const again = await rent(sandbox, { project_id: project.project_id, phone: phone.slice(1), quantity: 3 });
    expect(again.orders).toEqual([{ order: 700002, phone, country: 'us', status: 'active' }]);
    expect(await balanceOf(sandbox)).toBe(money(new Big(1000).minus(new Big(project.price).times(2))));
    expect(await errorOf(sandbox, { key: RESELLER_KEY, action: 'add_sms', project_id: project.project_id, phone })).toBe(
      'Phone number not found',
    );
    const elsewhere = await projectIn(sandbox, 'gb');
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'add_sms', project_id: elsewhere.project_id, phone })).toBe(
      'Country does not match project',
    );
  });
});

describe('SMS life cycle', () => {
  it('waits for the code, then answers it with the SMS text', async () => {
    const sandbox = await startSandbox(steady);
    const project = await projectIn(sandbox, 'gb');
    const [rented] = (await rent(sandbox, { project_id: project.project_id })).orders;
    const order = rented?.order ?? 0;
    expect(await smsCode(sandbox, order)).toEqual({ status: 'waiting', message: 'Waiting for code' });
    expect(await smsStatus(sandbox, order)).toEqual({
      status: 'active',
      phone: rented?.phone,
      code: null,
      charge: project.price,
      currency: 'USD',
      expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    sandbox.advance(29);
    expect((await smsCode(sandbox, order)).status).toBe('waiting');
    sandbox.advance(1);
    const code = await smsCode(sandbox, order);
    expect(code).toEqual({
      status: 'completed',
      code: expect.stringMatching(/^\d{6}$/),
      sms_content: `Your ${project.name} verification code is ${code.code}`,
    });
    expect(await smsStatus(sandbox, order)).toMatchObject({ status: 'code_received', code: code.code });
    sandbox.advance(3600);
    expect(await smsStatus(sandbox, order)).toMatchObject({ status: 'code_received', code: code.code });
    expect(await balanceOf(sandbox)).toBe(money(new Big(1000).minus(project.price)));
  });

  it('dates expires_at in sandbox time, which starts at the real start time', async () => {
    const before = Date.now();
    const sandbox = await startSandbox({ smsLifetimeSeconds: 600 });
    const after = Date.now();
    sandbox.advance(86400);
    const project = await projectIn(sandbox, 'us');
    const [rented] = (await rent(sandbox, { project_id: project.project_id })).orders;
    const started = Date.parse((await smsStatus(sandbox, rented?.order ?? 0)).expires_at) - (86400 + 600) * 1000;
    expect(started).toBeGreaterThanOrEqual(before);
    expect(started).toBeLessThanOrEqual(after);
  });

  it('expires a number that never gets a code and refunds it exactly once', async () => {
    const sandbox = await startSandbox({ smsNoCodeShare: 1 });
    const project = await projectIn(sandbox, 'fr');
    const [rented] = (await rent(sandbox, { project_id: project.project_id })).orders;
    const order = rented?.order ?? 0;
    sandbox.advance(1199);
    expect(await smsStatus(sandbox, order)).toMatchObject({ status: 'active', code: null });
    expect(await balanceOf(sandbox)).toBe(money(new Big(1000).minus(project.price)));
    sandbox.advance(1);
    expect(await smsStatus(sandbox, order)).toMatchObject({ status: 'expired', code: null });
    expect(await smsCode(sandbox, order)).toEqual({ status: 'expired', message: 'Number expired without a code' });
    for (let poll = 0; poll < 3; poll++) {
      sandbox.advance(600);
      await smsStatus(sandbox, order);
      expect(await balanceOf(sandbox)).toBe('1000.00');
    }
  });

  it('follows forced outcomes and raw statuses', async () => {
    const sandbox = await startSandbox(steady);
    const project = await projectIn(sandbox, 'in');
    const { orders } = await rent(sandbox, { project_id: project.project_id, quantity: 2 });
    const [silent, loud] = orders.map((order) => order.order);
    sandbox.forceSms(silent ?? 0, { outcome: 'no_code', rawStatus: 'PENDING' });
    sandbox.advance(60);
    expect((await smsStatus(sandbox, silent ?? 0)).status).toBe('PENDING');
    expect((await smsCode(sandbox, silent ?? 0)).status).toBe('waiting');
    expect((await smsCode(sandbox, loud ?? 0)).status).toBe('completed');
    expect(() => sandbox.forceSms(loud ?? 0, { outcome: 'no_code' })).toThrow(/already final/);
    sandbox.forceSms(silent ?? 0, { outcome: 'code' });
    expect((await smsCode(sandbox, silent ?? 0)).status).toBe('completed');
  });

  it('does not show one key the numbers of another, nor an SMM order', async () => {
    const sandbox = await startSandbox();
    const project = await projectIn(sandbox, 'us');
    const [rented] = (await rent(sandbox, { project_id: project.project_id })).orders;
    const order = rented?.order ?? 0;
    expect(await errorOf(sandbox, { key: RESELLER_KEY, action: 'sms_status', order })).toBe('Order not found');
    expect(await errorOf(sandbox, { key: RESELLER_KEY, action: 'sms_code', order })).toBe('Order not found');
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'sms_status' })).toBe('Order ID is required');
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'sms_code', order: 'x1' })).toBe('Incorrect order ID');
    expect(await errorOf(sandbox, { key: DEMO_KEY, action: 'status', order })).toBe('Order not found');
  });
});
