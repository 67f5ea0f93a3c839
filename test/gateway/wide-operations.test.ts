/**
 * Documented operations at their documented bounds, on the defaults: the gateway's own limits
 * (the per-key bulkhead above all) never refuse part of one legal operation, whatever the supplier
 * answers one call at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { OrdersDocument } from '../generated/graphql.ts';
import { MANY_REQUESTS, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';

const modes: { mode: string; config: Partial<Config>; key?: string }[] = [
  { mode: 'pass-through', config: {} },
  { mode: 'server-key', config: { serverKey: DEMO_KEY, gatewayTokens: ['shop-token'] }, key: 'shop-token' },
];

describe.each(modes)('orders(ids:) with 100 ids in $mode mode', ({ config, key }) => {
  let h: Harness;
  let ids: string[];
  beforeAll(async () => {
    // A supplier that reads one order per status call: 100 ids are 100 calls, all in one operation.
    h = await startHarness({ config: { ...config, rateLimit: MANY_REQUESTS }, sandbox: { api: 'basic' } });
    ids = [];
    for (let n = 0; n < 100; n += 1) ids.push(await h.placeOrder({ key }));
  });
  afterAll(() => h.close());

  it('answers all 100 entries with no error', async () => {
    h.sandbox.resetStats();
    // A supplier that takes a while: every call of the operation is waiting or in flight at once.
    h.sandbox.setFaults({ latencyMs: 50, actions: ['status'] });
    const answer = await h.request(OrdersDocument, { ids }, { key });
    h.sandbox.clearFaults();
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.orders.map((order) => order?.id)).toEqual(ids);
    // The one `orders=` call that showed the supplier reads one order at a time, then one per id.
    expect(h.calls('status')).toBe(101);
  });
});
