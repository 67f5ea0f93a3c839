/**
 * Many orders' statuses in one supplier call where the supplier takes `orders=`, and one at a time
 * where it does not (the sandbox's `api: 'basic'`), with each id's own error for that entry alone:
 * in reads, in pages of the ledger, and in the polls of watched orders.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiLevel } from '../../src/sandbox/index.ts';
import { OrdersDocument, OrderUpdatesDocument, PlacedOrdersWithStatusDocument } from '../generated/graphql.ts';
import { captureLogs, MANY_REQUESTS, startHarness, type Harness } from '../support/harness.ts';
import { collectWs, wsClient } from '../support/subscribe.ts';

describe.each(['full', 'basic'] as ApiLevel[])('order statuses from a supplier with the %s API', (api) => {
  let h: Harness;
  let ids: string[];
  const { lines, logger } = captureLogs();
  beforeAll(async () => {
    // A hundred placements and their reads: past the default request rate of one tenant.
    h = await startHarness({ sandbox: { api }, logger, config: { rateLimit: MANY_REQUESTS } });
    ids = [];
    for (let n = 0; n < 100; n += 1) ids.push(await h.placeOrder());
  });
  afterAll(() => h.close());

  it('answers orders(ids:) with 100 ids in full, in one status call where the supplier takes many', async () => {
    for (let round = 0; round < 2; round += 1) {
      h.sandbox.resetStats();
      const answer = await h.request(OrdersDocument, { ids });
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.orders.map((order) => order?.id)).toEqual(ids);
      // A basic supplier is asked once whether it takes many, then read one order at a time.
      expect(h.calls('status')).toBe(api === 'full' ? 1 : round === 0 ? 101 : 100);
    }
    const said = lines.filter((line) => String(line.msg).startsWith('the supplier reads one order per status call'));
    expect(said).toHaveLength(api === 'full' ? 0 : 1);
  });

  it("answers an unknown id in the batch with that entry's NOT_FOUND, the others with their orders", async () => {
    const asked = [ids[0]!, '999999999', ids[1]!];
    const answer = await h.request(OrdersDocument, { ids: asked });
    expect(answer.data!.orders.map((order) => order?.id ?? null)).toEqual([ids[0], null, ids[1]]);
    expect(answer.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([[['orders', 1], 'NOT_FOUND']]);
  });

  it('reads a page of placed orders with their status in one call where the supplier takes many', async () => {
    h.sandbox.resetStats();
    const page = await h.request(PlacedOrdersWithStatusDocument, { first: 50 });
    expect(page.errors).toBeUndefined();
    expect(page.data!.placedOrders.edges).toHaveLength(50);
    expect(page.data!.placedOrders.edges.every((edge) => edge.node.order?.status)).toBe(true);
    expect(h.calls('status')).toBe(api === 'full' ? 1 : 50);
  });

  it('polls 100 watched orders with one status call a round where the supplier takes many', async () => {
    const interval = 250;
    const watching = await startHarness({
      upstream: h.sandbox,
      config: { orderPollMs: interval, orderPollMaxMs: interval, rateLimit: MANY_REQUESTS },
    });
    const client = wsClient(watching.url);
    try {
      const seen = new Set<string>();
      let all!: () => void;
      const everyOrder = new Promise<void>((resolve) => (all = resolve));
      h.sandbox.resetStats();
      const started = performance.now();
      const watched = collectWs(client, OrderUpdatesDocument, { ids }, (event) => {
        seen.add(event.data!.orderUpdates.id);
        if (seen.size === ids.length) all();
      });
      await everyOrder;
      await sleep(2000);
      const rounds = (performance.now() - started) / interval;
      const calls = h.calls('status');
      await client.dispose();
      await watched.catch(() => undefined);
      // Rounds come at 0.8 to 1.2 intervals; the first read may be split by the 20 ms it waits for others.
      if (api === 'full') expect(calls).toBeLessThanOrEqual(Math.ceil(rounds / 0.8) + 2);
      else expect(calls).toBeGreaterThanOrEqual(ids.length * Math.floor(rounds / 1.2));
    } finally {
      await watching.close();
    }
  });
});
