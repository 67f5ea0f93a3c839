/**
 * A slow Redis, not a down one, on a real redis-server put to sleep (DEBUG SLEEP) or paused
 * (CLIENT PAUSE): a command that missed its deadline counts as not done, so a claim or a ledger
 * entry that lands late is undone; an outcome is written even when a Redis restart lost its claim;
 * a released claim leaves nothing behind; and requests stop waiting on Redis while it is slow.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.ts';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, PlacedOrdersDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { captureLogs, codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';

/** Each gateway's Redis command deadline: short, so that Redis can outsleep it in a short test. */
const DEADLINE_MS = 300;
/** Long enough for a request to meet two deadlines (its rate-limit token, then its own write). */
const ASLEEP_MS = 5 * DEADLINE_MS;

describe.skipIf(!redisPresent)('with a slow Redis', () => {
  let redis: RedisServer;
  let sandbox: Sandbox;
  let service: { id: string; min: number; max: number };
  const open: Harness[] = [];

  /** A gateway with keys of its own in the shared Redis, so that no test sees another's records. */
  async function gateway(config: Partial<Config> = {}): Promise<Harness> {
    const prefix = `slow-${open.length}-${Date.now()}:`;
    const h = await startHarness({
      upstream: sandbox,
      config: { redisUrl: redis.url, redisKeyPrefix: prefix, redisCommandTimeoutMs: DEADLINE_MS, ...config },
    });
    open.push(h);
    return h;
  }

  /** Puts Redis to sleep; resolves, once it is asleep, with the moment it wakes. */
  async function asleep(ms: number): Promise<{ woke: Promise<unknown> }> {
    const { reply } = await redis.command('DEBUG', 'SLEEP', String(ms / 1000));
    return { woke: reply };
  }

  async function status(h: Harness, path: '/health' | '/ready') {
    const response = await fetch(new URL(path, h.url));
    return (await response.json()) as { stateStore: { kind: string; ready: boolean; slow: boolean } };
  }

  const input = (key: string) => ({
    serviceId: service.id,
    quantity: service.min,
    link: `https://instagram.com/p/${key}`,
    idempotencyKey: key,
  });

  beforeAll(async () => {
    redis = await startRedis({ debug: true });
    sandbox = await createSandbox({ port: 0, partialShare: 0, cancelShare: 0 });
    const h = await gateway();
    service = (await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' })).data!.services.edges[0]!.node;
    await open.pop()!.close();
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

  it('undoes a claim that lands after its deadline: the retry places the order, once', async () => {
    const h = await gateway({ upstreamTimeoutMs: 1000 });
    const { woke } = await asleep(ASLEEP_MS);
    const refused = await h.request(AddOrderDocument, { input: input('late-claim') });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'STATE_STORE' });
    await woke;
    const retry = await h.request(AddOrderDocument, { input: input('late-claim') });
    expect(retry.errors).toBeUndefined();
    expect(sandbox.stats().requests.add).toBe(1);
  });

  it('undoes a ledger entry that lands after its deadline: a refused placement is never listed', async () => {
    const h = await gateway();
    const order = { ...input('no-key'), idempotencyKey: undefined };
    // Refused after the service is read, so the catalogue is warm and the ledger entry is the next write.
    expect(codes(await h.request(AddOrderDocument, { input: { ...order, quantity: service.max + 1 } }))).toEqual(['BAD_USER_INPUT']);
    sandbox.setFaults({ latencyMs: 2 * DEADLINE_MS, actions: ['balance'] });
    const answer = h.request(AddOrderDocument, { input: order });
    await expect.poll(() => sandbox.stats().requests.balance ?? 0).toBe(1);
    const { woke } = await asleep(ASLEEP_MS); // the ledger entry is written when the balance answers
    expect((await answer).errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'STATE_STORE' });
    await woke;
    expect(sandbox.stats().requests.add ?? 0).toBe(0);
    expect((await h.request(PlacedOrdersDocument, {})).data!.placedOrders.totalCount).toBe(0);
  });

  it('writes the outcome of an ambiguous order whose claim a Redis restart without persistence lost: the retry places nothing', async () => {
    const h = await gateway();
    sandbox.setFaults({ latencyMs: 2000, dropRate: 1, actions: ['add'], count: 1 });
    const lost = h.request(AddOrderDocument, { input: input('lost-claim') });
    await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(1);
    await redis.kill();
    await redis.start();
    // Back before the supplier's answer is lost, so the outcome meets an empty Redis.
    await expect.poll(async () => (await status(h, '/health')).stateStore.ready).toBe(true);
    expect((await lost).errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', orderMayExist: true });
    const retry = await h.request(AddOrderDocument, { input: input('lost-claim') });
    expect(retry.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', orderMayExist: true, replayed: true });
    expect(sandbox.stats().requests.add).toBe(1);
    const listed = (await h.request(PlacedOrdersDocument, {})).data!.placedOrders.edges.map((edge) => edge.node);
    expect(listed).toMatchObject([{ idempotencyKey: 'lost-claim', outcome: 'UNCONFIRMED', order: null }]);
  });

  it('stops waiting on Redis once a command missed its deadline, says so on /health and /ready, and waits again once Redis answers quickly', async () => {
    const h = await gateway();
    const read = () => h.request(ServicesPageDocument, { first: 1, category: 'Instagram' });
    await read();
    await redis.command('CLIENT', 'PAUSE', String(ASLEEP_MS), 'ALL');
    expect((await read()).errors).toBeUndefined(); // waits for its rate-limit token once, a deadline long
    const started = performance.now();
    for (let n = 0; n < 10; n += 1) expect((await read()).errors).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS);
    for (const path of ['/health', '/ready'] as const) {
      expect(await status(h, path)).toMatchObject({ stateStore: { kind: 'redis', ready: true, slow: true } });
    }
    await expect.poll(async () => (await status(h, '/health')).stateStore.slow).toBe(false);
  });

  it('leaves nothing behind for a released claim: made-up keys leave no idempotency keys in Redis', async () => {
    const h = await gateway({ redisKeyPrefix: 'made-up:' });
    for (let n = 0; n < 21; n += 1) {
      expect(codes(await h.request(AddOrderDocument, { input: input(`made-up-${n}`) }, { key: `made-up-key-${n}` }))).toEqual([
        'UNAUTHENTICATED',
      ]);
    }
    expect(await (await redis.command('KEYS', 'made-up:idem:*')).reply).toEqual([]);
  });
});

describe.skipIf(!redisPresent)('with Redis gone while a placement is with the supplier', () => {
  it('writes the outcome once Redis is back: the retry replays it, and the order is placed once', async () => {
    const redis = await startRedis({ appendOnly: true });
    const sandbox = await createSandbox({ port: 0 });
    const h = await startHarness({ upstream: sandbox, config: { redisUrl: redis.url, redisCommandTimeoutMs: DEADLINE_MS } });
    try {
      const service = (await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' })).data!.services.edges[0]!.node;
      const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/restart', idempotencyKey: 'restart-1' };
      sandbox.setFaults({ latencyMs: 500, actions: ['add'] });
      const placing = h.request(AddOrderDocument, { input });
      await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(1);
      // Redis restarts (its append-only file kept the claim) while the supplier answers: the
      // outcome is written when Redis is back, not dropped.
      await redis.stop();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await redis.start();
      const first = await placing;
      expect(first.errors).toBeUndefined();
      const retry = await h.request(AddOrderDocument, { input });
      expect(retry.data?.addOrder.id).toBe(first.data!.addOrder.id);
      expect(sandbox.stats().requests.add).toBe(1);
      const ledger = await h.request(PlacedOrdersDocument, { first: 5 });
      expect(ledger.data!.placedOrders.edges.map((edge) => edge.node)).toEqual([
        expect.objectContaining({ outcome: 'PLACED', order: { id: first.data!.addOrder.id } }),
      ]);
    } finally {
      await h.close();
      await sandbox.close();
      await redis.close();
    }
  });

  it('logs the order ids of a placement whose outcome could not be recorded, so that it can be reconciled', async () => {
    const redis = await startRedis();
    const sandbox = await createSandbox({ port: 0 });
    const { lines, logger } = captureLogs();
    const h = await startHarness({ upstream: sandbox, logger, config: { redisUrl: redis.url, redisCommandTimeoutMs: DEADLINE_MS } });
    try {
      const service = (await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' })).data!.services.edges[0]!.node;
      sandbox.setFaults({ latencyMs: 500, actions: ['add'] });
      const placing = h.request(AddOrderDocument, {
        input: { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/gone' },
      });
      await expect.poll(() => sandbox.stats().requests.add ?? 0).toBe(1);
      await redis.kill();
      const id = (await placing).data?.addOrder.id;
      expect(id).toMatch(/^\d+$/);
      const unrecorded = lines.filter(
        (line) => line.level === 50 && String(line.msg).startsWith('a placement ran but its outcome could not be recorded'),
      );
      expect(unrecorded).toContainEqual(expect.objectContaining({ orderIds: [id], outcome: 'PLACED', kind: 'order' }));
      for (const line of unrecorded) expect(JSON.stringify(line)).not.toContain(DEMO_KEY);
      await redis.start();
    } finally {
      await h.close();
      await sandbox.close();
      await redis.close();
    }
  });
});
