/**
 * Money that survives restarts and replicas: gateways sharing a real Redis place one order per
 * intent through ambiguous failures, restarts, shutdowns during slow orders, two instances racing
 * on one key, and Redis itself going away and coming back.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, BalanceDocument, OrderDocument, PlacedOrdersDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';

describe.skipIf(!redisPresent)('with Redis as the state store', () => {
  let redis: RedisServer;
  let sandbox: Sandbox;
  let service: { id: string; min: number };
  const open: Harness[] = [];

  /** A gateway on the shared sandbox and Redis: another instance, or the same one restarted. */
  async function gateway(config: Partial<Config> = {}): Promise<Harness> {
    const h = await startHarness({ upstream: sandbox, config: { redisUrl: redis.url, ...config } });
    open.push(h);
    return h;
  }

  async function stop(h: Harness): Promise<void> {
    open.splice(open.indexOf(h), 1);
    await h.close();
  }

  const input = (key: string, n = 0) => ({
    serviceId: service.id,
    quantity: service.min + n,
    link: `https://instagram.com/p/${key}`,
    idempotencyKey: key,
  });

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: true });
    sandbox = await createSandbox({ port: 0, partialShare: 0, cancelShare: 0 });
    const h = await gateway();
    service = (await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' })).data!.services.edges[0]!.node;
    await stop(h);
  });
  afterEach(async () => {
    sandbox.clearFaults();
    sandbox.resetStats();
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  afterAll(async () => {
    await sandbox.close();
    await redis.close();
  });

  it('answers a retry after a restart with the ambiguous outcome, never a second order', async () => {
    const before = await gateway();
    sandbox.setFaults({ dropRate: 1, actions: ['add'], count: 1 });
    const lost = await before.request(AddOrderDocument, { input: input('restart-1') });
    expect(lost.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', orderMayExist: true });
    await stop(before);

    const after = await gateway();
    const retry = await after.request(AddOrderDocument, { input: input('restart-1') });
    expect(retry.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', orderMayExist: true, replayed: true });
    expect(sandbox.stats().requests.add).toBe(1);
    const listed = (await after.request(PlacedOrdersDocument, {})).data!.placedOrders.edges.map((edge) => edge.node);
    expect(listed.find((node) => node.idempotencyKey === 'restart-1')).toMatchObject({ outcome: 'UNCONFIRMED', order: null });
  });

  it('places one order when two instances get the same key at once', async () => {
    const [a, b] = await Promise.all([gateway(), gateway()]);
    sandbox.setFaults({ latencyMs: 300, actions: ['add'] });
    const answers = await Promise.all([
      a.request(AddOrderDocument, { input: input('twice-1') }),
      b.request(AddOrderDocument, { input: input('twice-1') }),
      b.request(AddOrderDocument, { input: input('twice-1') }),
    ]);
    expect(answers.map((answer) => answer.errors)).toEqual([undefined, undefined, undefined]);
    expect(new Set(answers.map((answer) => answer.data!.addOrder.id)).size).toBe(1);
    expect(sandbox.stats().requests.add).toBe(1);
  });

  it('tells a repeat that outwaits the first request that it is still in flight', async () => {
    const [a, b] = await Promise.all([gateway(), gateway({ upstreamTimeoutMs: 300 })]);
    sandbox.setFaults({ latencyMs: 1500, actions: ['add'] });
    const first = a.request(AddOrderDocument, { input: input('slow-1') });
    await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(1);
    const repeat = await b.request(AddOrderDocument, { input: input('slow-1') });
    expect(repeat.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', inFlight: true });
    expect((await first).errors).toBeUndefined();
    expect((await b.request(AddOrderDocument, { input: input('slow-1') })).data!.addOrder.id).toBe((await first).data!.addOrder.id);
    expect(sandbox.stats().requests.add).toBe(1);
  });

  it('finishes and records slow orders at shutdown; retries on the restarted gateway place nothing more', async () => {
    const intents = Array.from({ length: 8 }, (_, n) => input(`shutdown-${n}`));
    const before = await gateway();
    sandbox.setFaults({ latencyMs: 1000, actions: ['add'] });
    const answers = intents.map((order) => before.request(AddOrderDocument, { input: order }));
    await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(intents.length);
    await stop(before);
    const ids = (await Promise.all(answers)).map((answer) => answer.data?.addOrder.id);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);

    const after = await gateway();
    const retried = await Promise.all(intents.map((order) => after.request(AddOrderDocument, { input: order })));
    expect(retried.map((answer) => answer.data?.addOrder.id)).toEqual(ids);
    expect(sandbox.stats().requests.add).toBe(intents.length);
  });

  it('records orders that outlast the supplier deadline as ambiguous before exiting; retries replay them', async () => {
    const intents = Array.from({ length: 5 }, (_, n) => input(`deadline-${n}`));
    const before = await gateway({ upstreamTimeoutMs: 400 });
    sandbox.setFaults({ latencyMs: 1200, actions: ['add'] });
    const answers = intents.map((order) => before.request(AddOrderDocument, { input: order }));
    await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(intents.length);
    await stop(before);
    for (const answer of await Promise.all(answers)) expect(answer.errors?.[0]?.extensions?.orderMayExist).toBe(true);

    const after = await gateway();
    const retried = await Promise.all(intents.map((order) => after.request(AddOrderDocument, { input: order })));
    expect(retried.map((answer) => answer.errors?.[0]?.extensions?.orderMayExist)).toEqual(intents.map(() => true));
    expect(sandbox.stats().requests.add).toBe(intents.length);
  });

  it('refuses to spend while Redis is away, serves reads, and recovers by itself', async () => {
    const h = await gateway();
    await redis.kill();
    try {
      const refused = await h.request(AddOrderDocument, { input: input('outage-1') });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'STATE_STORE' });
      const unkeyed = await h.request(AddOrderDocument, { input: { ...input('outage-2'), idempotencyKey: undefined } });
      expect(unkeyed.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'STATE_STORE' });
      expect(sandbox.stats().requests.add ?? 0).toBe(0);
      expect((await h.request(BalanceDocument, {})).data!.balance.currency).toBe('USD');
      expect((await h.request(ServicesPageDocument, { first: 1 })).data!.services.totalCount).toBeGreaterThan(0);
    } finally {
      await redis.start();
    }
    await expect
      .poll(async () => (await h.request(AddOrderDocument, { input: input('outage-3') })).errors, { timeout: 15_000 })
      .toBeUndefined();
    expect(sandbox.stats().requests.add).toBe(1);
  });

  it('keeps its records through a Redis restart (append-only file)', async () => {
    const h = await gateway();
    const placed = await h.request(AddOrderDocument, { input: input('aof-1') });
    await redis.stop();
    await redis.start();
    await expect
      .poll(async () => (await h.request(AddOrderDocument, { input: input('aof-1') })).data?.addOrder.id, { timeout: 15_000 })
      .toBe(placed.data!.addOrder.id);
    expect(sandbox.stats().requests.add).toBe(1);
  });

  it("keeps what a named token's caller owns when its secret is rotated", async () => {
    const config = { serverKey: DEMO_KEY, gatewayTokens: ['shop:old-secret', 'other:x-secret'] };
    const before = await gateway(config);
    const placed = await before.request(AddOrderDocument, { input: input('rotate-1') }, { key: 'old-secret' });
    const id = placed.data!.addOrder.id;
    await stop(before);
    const after = await gateway({ ...config, gatewayTokens: ['shop:new-secret', 'other:x-secret'] });
    expect((await after.request(OrderDocument, { id }, { key: 'new-secret' })).data!.order).toMatchObject({ id });
    expect(codes(await after.request(OrderDocument, { id }, { key: 'old-secret' }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await after.request(OrderDocument, { id }, { key: 'x-secret' }))).toEqual(['NOT_FOUND']);
  });
});
