import Big from 'big.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AddSmsOrderDocument, BalanceDocument, SmsCountriesDocument, SmsOrderDocument, SmsProjectsDocument } from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { EMPTY_KEY } from '../support/keys.ts';

let h: Harness;
let project: { id: string; price: string; countryCode: string };

beforeAll(async () => {
  h = await startHarness({ sandbox: { smsNoCodeShare: 0, smsCodeDelaySeconds: 30, smsLifetimeSeconds: 1200 } });
  project = (await h.request(SmsProjectsDocument, { country: 'US' })).data!.smsProjects[0]!;
});
afterAll(() => h.close());
beforeEach(() => h.sandbox.resetStats());

describe('SMS catalogue', () => {
  it('lists countries, each with its own projects, from one projects call', async () => {
    const { data, errors } = await h.request(SmsCountriesDocument);
    expect(errors).toBeUndefined();
    expect(data!.smsCountries.length).toBeGreaterThanOrEqual(10);
    for (const country of data!.smsCountries) {
      expect(country.projects.every((p) => p.countryCode === country.code)).toBe(true);
    }
    expect(h.calls('sms_projects')).toBeLessThanOrEqual(1);
  });

  it('filters projects by country through the supplier, in any case', async () => {
    const { data } = await h.request(SmsProjectsDocument, { country: 'gb' });
    expect(data!.smsProjects.length).toBeGreaterThan(0);
    expect(data!.smsProjects.every((p) => p.countryCode === 'gb' && /^\d+\.\d+$/.test(p.price))).toBe(true);
  });
});

describe('addSmsOrder', () => {
  it('rents numbers, charges the price per number, and a code arrives', async () => {
    const before = (await h.request(BalanceDocument)).data!.balance.amount;
    const { data, errors } = await h.request(AddSmsOrderDocument, { input: { projectId: project.id, quantity: 2 } });
    expect(errors).toBeUndefined();
    const orders = data!.addSmsOrder;
    expect(orders).toHaveLength(2);
    expect(orders[0]).toMatchObject({ status: 'ACTIVE', country: project.countryCode, code: null, isFinal: false });
    expect(orders[0]!.charge!.amount).toBe(project.price);
    expect(orders[0]!.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    const after = (await h.request(BalanceDocument)).data!.balance.amount;
    expect(new Big(before).minus(after).eq(new Big(project.price).times(2))).toBe(true);

    h.sandbox.advance(60);
    const { data: later } = await h.request(SmsOrderDocument, { id: orders[0]!.id });
    expect(later!.smsOrder).toMatchObject({ status: 'CODE_RECEIVED', isFinal: true });
    expect(later!.smsOrder!.code).toMatch(/^\d{4,8}$/);
    expect(later!.smsOrder!.smsContent).toContain(later!.smsOrder!.code!);
  });

  it('refunds a number that expires without a code', async () => {
    const before = (await h.request(BalanceDocument)).data!.balance.amount;
    const { data } = await h.request(AddSmsOrderDocument, { input: { projectId: project.id } });
    const id = data!.addSmsOrder[0]!.id;
    h.sandbox.forceSms(Number(id), { outcome: 'no_code' });
    h.sandbox.advance(1300);
    const { data: later } = await h.request(SmsOrderDocument, { id });
    expect(later!.smsOrder).toMatchObject({ status: 'EXPIRED', code: null, isFinal: true });
    expect((await h.request(BalanceDocument)).data!.balance.amount).toBe(before);
  });

  it('rents the same number again on request', async () => {
    const first = (await h.request(AddSmsOrderDocument, { input: { projectId: project.id } })).data!.addSmsOrder[0]!;
    const again = await h.request(AddSmsOrderDocument, { input: { projectId: project.id, phone: first.phone } });
    expect(again.errors).toBeUndefined();
    expect(again.data!.addSmsOrder[0]!.phone).toBe(first.phone);
  });

  it.each([
    ['quantity 0', { quantity: 0 }, 'BAD_USER_INPUT'],
    ['quantity 11', { quantity: 11 }, 'BAD_USER_INPUT'],
    ['an empty project id', { projectId: '' }, 'BAD_USER_INPUT'],
    ['an unknown project', { projectId: 'ffffffffffffffffffffffff' }, 'NOT_FOUND'],
    ['a country the project is not for', { country: 'zz' }, 'BAD_USER_INPUT'],
  ])('refuses %s before renting anything', async (_name, patch, code) => {
    const response = await h.request(AddSmsOrderDocument, { input: { projectId: project.id, ...patch } });
    expect(codes(response)).toEqual([code]);
    expect(h.calls('add_sms')).toBe(0);
  });

  it('refuses numbers the balance cannot cover', async () => {
    const response = await h.request(AddSmsOrderDocument, { input: { projectId: project.id } }, { key: EMPTY_KEY });
    expect(codes(response)).toEqual(['INSUFFICIENT_BALANCE']);
    expect(h.calls('add_sms')).toBe(0);
  });

  it('rents once for the same idempotency key', async () => {
    const input = { projectId: project.id, quantity: 3, idempotencyKey: 'sms-once' };
    const [a, b] = await Promise.all([h.request(AddSmsOrderDocument, { input }), h.request(AddSmsOrderDocument, { input })]);
    expect(b.data!.addSmsOrder.map((o) => o.id)).toEqual(a.data!.addSmsOrder.map((o) => o.id));
    expect(h.calls('add_sms')).toBe(1);
  });

  it('gives null and NOT_FOUND for an unknown SMS order', async () => {
    const response = await h.request(SmsOrderDocument, { id: '777777777' });
    expect(response.data!.smsOrder).toBeNull();
    expect(codes(response)).toEqual(['NOT_FOUND']);
  });
});
