/**
 * Limits counted across instances on one Redis: subscriptions per tenant, the request rate per
 * tenant and the keys the supplier rejected, each as one instance would count them alone.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SharedLimits } from '../../src/limits/shared.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { RedisConnection } from '../../src/state/connection.ts';
import { RedisCoordination } from '../../src/subscriptions/coordination.ts';
import { RedisSharedCache } from '../../src/supplier/shared-cache.ts';
import { BalanceDocument, OrderStatusDocument } from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { RESELLER_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';
import { wsClient } from '../support/subscribe.ts';

describe.skipIf(!redisPresent)('limits shared by two instances on one Redis', () => {
  let redis: RedisServer;
  let sandbox: Sandbox;
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    redis = await startRedis();
    sandbox = await createSandbox({ port: 0 });
    const config = { redisUrl: redis.url, subscriptionsPerTenant: 3, rateLimit: { perSecond: 0.01, burst: 6 } };
    [a, b] = await Promise.all([startHarness({ upstream: sandbox, config }), startHarness({ upstream: sandbox, config })]);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await sandbox.close();
    await redis.close();
  });

  it('counts subscriptions per tenant across instances, and gives a place back when one ends', async () => {
    const id = await a.placeOrder({ key: RESELLER_KEY });
    const first = (client: ReturnType<typeof wsClient>) =>
      new Promise<unknown>((resolve) => {
        client.subscribe({ query: print(OrderStatusDocument), variables: { id } }, { next: resolve, error: resolve, complete: () => {} });
      });
    const onA = wsClient(a.url, { apiKey: RESELLER_KEY });
    const onB = wsClient(b.url, { apiKey: RESELLER_KEY });
    const held = await Promise.all([first(onA), first(onA), first(onB)]);
    expect(held.every((event) => JSON.stringify(event).includes('PENDING'))).toBe(true);
    const refused = await first(onB);
    expect(JSON.stringify(refused)).toContain('SUBSCRIPTIONS_PER_TENANT');
    await onA.dispose();
    await expect.poll(async () => JSON.stringify(await first(onB))).toContain('PENDING');
    await onB.dispose();
  });

  it("counts a tenant's requests across instances", async () => {
    const answers = [];
    for (const h of [a, b, a, b, a, b, a, b]) answers.push(codes(await h.request(BalanceDocument)));
    expect(answers.slice(0, 6).flat()).toEqual([]);
    expect(answers.slice(6).flat()).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('fences a poller that lost its lease: it can neither publish nor renew over its successor', async () => {
    const redisConnection = new RedisConnection(redis.url, 'fence-test:', createLogger('silent'));
    const coordination = new RedisCoordination(redisConnection);
    try {
      const id = 't:order:1';
      const first = await coordination.lead(id, 50);
      expect(first).toBeDefined();
      expect(await coordination.lead(id, 50)).toBeUndefined();
      let second: string | undefined;
      await expect.poll(async () => (second ??= await coordination.lead(id, 5000))).toBeDefined();
      expect(await coordination.publish(id, first!, { state: { status: 'stale' }, final: false }, 60_000)).toBeUndefined();
      expect(await coordination.renew(id, first!, 5000)).toBe(false);
      expect(await coordination.publish(id, second!, { state: { status: 'fresh' }, final: false }, 60_000)).toBe(1);
      expect((await coordination.read(id))?.state).toEqual({ status: 'fresh' });
    } finally {
      await redisConnection.close();
    }
  });

  it('remembers on every instance a key the supplier rejected on one', async () => {
    sandbox.resetStats();
    expect(codes(await a.request(BalanceDocument, {}, { key: 'shared-bad-key' }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await b.request(BalanceDocument, {}, { key: 'shared-bad-key' }))).toEqual(['UNAUTHENTICATED']);
    expect(sandbox.stats().requests.balance).toBe(1);
  });

  it("takes a busy tenant's tokens from Redis in batches, and never grants more than the bucket across instances", async () => {
    // A Redis of its own: the gateways' followers and webhook dispatchers run scripts on theirs.
    const own = await startRedis();
    const connections = [
      new RedisConnection(own.url, 'batch-test:', createLogger('silent')),
      new RedisConnection(own.url, 'batch-test:', createLogger('silent')),
    ];
    const [one, two] = connections.map((connection) => new SharedLimits(connection)) as [SharedLimits, SharedLimits];
    const evals = async () =>
      Number(/cmdstat_eval:calls=(\d+)/.exec(await connections[0]!.run((client) => client.info('commandstats')))?.[1] ?? 0);
    try {
      // 1000 a second: batches of up to 100, starting at 1 and doubling (1, 2, 4 … 64, 100, 100).
      // 250 requests at once on one instance make 9 calls, not 250.
      const before = await evals();
      const waits = await Promise.all(Array.from({ length: 250 }, () => one.take('busy', 1000, 1000)));
      expect(waits.every((wait) => wait === 0)).toBe(true);
      expect((await evals()) - before).toBe(9);

      // 100 a second (batches of 10), a bucket of 30, shared by two instances: 30 granted, give or
      // take what refills while the test runs (one token per 10 ms).
      const started = Date.now();
      const granted = (await Promise.all(Array.from({ length: 80 }, (_, n) => (n % 2 ? one : two).take('shared', 100, 30)))).filter(
        (wait) => wait === 0,
      ).length;
      expect(granted).toBeGreaterThanOrEqual(30);
      expect(granted).toBeLessThanOrEqual(30 + Math.ceil((Date.now() - started) / 10));
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
      await own.close();
    }
  });

  it('takes subscription places from Redis a block at a time, never past the limit across instances, and exactly under 200', async () => {
    // A Redis of its own: the gateways' followers and webhook dispatchers run scripts on theirs.
    const own = await startRedis();
    const connections = [
      new RedisConnection(own.url, 'places-test:', createLogger('silent')),
      new RedisConnection(own.url, 'places-test:', createLogger('silent')),
    ];
    const [one, two] = connections.map((connection) => new SharedLimits(connection)) as [SharedLimits, SharedLimits];
    for (const limits of [one, two]) limits.start();
    const evals = async () =>
      Number(/cmdstat_eval:calls=(\d+)/.exec(await connections[0]!.run((client) => client.info('commandstats')))?.[1] ?? 0);
    const held = async (instance: RedisConnection) =>
      Number((await instance.run((client) => client.hGet('places-test:subscriptions:busy', instance.instance))) ?? 0);
    try {
      // A limit of 10,000: blocks of 100, or as many as are waiting. 1,000 places asked at once on
      // one instance are 2 Redis calls (a block for the first, then one for the 900 waiting), not
      // 1,000.
      const before = await evals();
      const taken = await Promise.all(Array.from({ length: 1000 }, () => one.acquire('busy', 10_000)));
      expect(taken.every(Boolean)).toBe(true);
      expect((await evals()) - before).toBe(2);
      expect(await held(connections[0]!)).toBe(1000);
      // Leaving and joining again within the spare places costs none; the next block is asked for
      // while half of one is still spare (here at once: none was).
      for (let n = 0; n < 15; n += 1) await one.release('busy');
      expect(await held(connections[0]!)).toBe(1000);
      for (let n = 0; n < 15; n += 1) expect(await one.acquire('busy', 10_000)).toBe(true);
      expect((await evals()) - before).toBe(3);
      expect(await held(connections[0]!)).toBe(1100);
      // Two blocks spare: one goes back.
      for (let n = 0; n < 100; n += 1) await one.release('busy');
      expect(await held(connections[0]!)).toBe(1000);

      // A limit of 2,500 (blocks of 25) over two instances: 2,500 granted in all, never more.
      const granted = (await Promise.all(Array.from({ length: 2600 }, (_, n) => (n % 2 ? one : two).acquire('shared', 2500)))).filter(
        Boolean,
      ).length;
      expect(granted).toBe(2500);

      // A limit of 3 (blocks of one): a place given back on one instance is at once the other's.
      const taken3 = await Promise.all([one.acquire('small', 3), one.acquire('small', 3), two.acquire('small', 3)]);
      expect(taken3).toEqual([true, true, true]);
      expect(await two.acquire('small', 3)).toBe(false);
      await one.release('small');
      expect(await two.acquire('small', 3)).toBe(true);
      // Every place given back, one by one, leaves nothing counted for the instance.
      await Promise.all([one.release('small'), two.release('small'), two.release('small')]);
      const small = async (connection: RedisConnection) =>
        Number((await connection.run((client) => client.hGet('places-test:subscriptions:small', connection.instance))) ?? 0);
      expect([await small(connections[0]!), await small(connections[1]!)]).toEqual([0, 0]);

      // A tenant none of whose places is handed out any more gives its spare ones back.
      for (let n = 0; n < 900; n += 1) await one.release('busy');
      expect(await held(connections[0]!)).toBe(0);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
      await Promise.all(connections.map((connection) => connection.close()));
      await own.close();
    }
  });

  it('takes one token at a time for a tenant an instance seldom serves, so spread-out traffic wastes none', async () => {
    const connection = new RedisConnection(redis.url, 'slow-start-test:', createLogger('silent'));
    const limits = new SharedLimits(connection);
    const left = async () => Number(await connection.run((client) => client.hGet('slow-start-test:rate:seldom', 't')));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // 100 a second, a bucket of 10: a full batch would be 10 tokens, the whole bucket.
      for (let n = 0; n < 4; n++) {
        expect(await limits.take('seldom', 100, 10)).toBe(0);
        expect(await left()).toBe(9);
        vi.setSystemTime(Date.now() + 1500); // the next request comes after this one's batch lapsed
      }
    } finally {
      vi.useRealTimers();
      await connection.close();
    }
  });

  it("frees only its own catalogue lock: a load that outlasted its lock leaves a successor's alone", async () => {
    const connections = [
      new RedisConnection(redis.url, 'lock-test:', createLogger('silent')),
      new RedisConnection(redis.url, 'lock-test:', createLogger('silent')),
    ];
    const [slow, next] = connections.map((connection) => new RedisSharedCache(connection)) as [RedisSharedCache, RedisSharedCache];
    try {
      expect(await slow.lock('services', 50)).toBe(true);
      await expect.poll(() => next.lock('services', 60_000)).toBe(true); // the slow load's lock lapsed
      await slow.unlock('services');
      expect(await next.loading('services')).toBe(true);
      await next.unlock('services');
      expect(await next.loading('services')).toBe(false);
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
    }
  });
});
