/**
 * Several instances as one: three gateway processes on one sandbox and one real Redis cost the
 * supplier what one costs, survive the loss of the instance that polls, ride out Redis going away
 * and coming back, and lose no subscriber's final state through a rolling restart.
 */
import { print, type ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, OrderStatusDocument, ServicesPageDocument, type OrderStatusSubscription } from '../generated/graphql.ts';
import { startInstance, type Instance } from '../support/cluster.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';

type Event = ExecutionResult<OrderStatusSubscription>;

/** `count` watchers of one order on one instance, over one WebSocket that reconnects where `url` says. */
function watch(url: () => string, id: string, count: number, retry = false) {
  const client: Client = createClient({
    url: () => url().replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { apiKey: DEMO_KEY },
    retryAttempts: retry ? 20 : 0,
    retryWait: async () => new Promise((resolve) => setTimeout(resolve, 100)),
    shouldRetry: () => retry,
  });
  const watchers = Array.from({ length: count }, () => {
    const events: Event[] = [];
    const done = new Promise<string>((resolve) => {
      client.subscribe(
        { query: print(OrderStatusDocument), variables: { id } },
        { next: (event) => events.push(event as Event), error: () => resolve('error'), complete: () => resolve('complete') },
      );
    });
    return { events, done };
  });
  return { client, watchers };
}

const statuses = (events: Event[]) => events.map((event) => event.data?.orderStatus.status);

async function placeOrder(url: string, key?: string) {
  const post = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (!body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  const page = await post<{ services: { edges: Array<{ node: { id: string; min: number } }> } }>(print(ServicesPageDocument), {
    first: 1,
    category: 'Instagram',
  });
  const service = page.services.edges[0]!.node;
  const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/cluster', idempotencyKey: key };
  return (await post<{ addOrder: { id: string } }>(print(AddOrderDocument), { input })).addOrder.id;
}

describe.skipIf(!redisPresent)('three gateway processes on one Redis', () => {
  let redis: RedisServer;
  let sandbox: Sandbox;
  let instances: Instance[] = [];
  const clients: Client[] = [];
  const start = () => startInstance({ HSTOCK_API_URL: sandbox.url, REDIS_URL: redis.url, ORDER_POLL_MS: '200', ORDER_POLL_MAX_MS: '200' });

  beforeAll(async () => {
    redis = await startRedis();
    sandbox = await createSandbox({ port: 0, partialShare: 0, cancelShare: 0, timeScale: 0 });
    instances = await Promise.all([start(), start(), start()]);
  }, 60_000);
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.kill()));
    await sandbox.close();
    await redis.close();
  });

  it('makes one services call for a cold catalogue read on all three at once', async () => {
    sandbox.resetStats();
    const read = (instance: Instance) =>
      fetch(instance.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
        body: JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 3, category: 'TikTok' } }),
      }).then((response) => response.json() as Promise<{ data: { services: { totalCount: number } } }>);
    const pages = await Promise.all(instances.flatMap((instance) => [read(instance), read(instance)]));
    expect(new Set(pages.map((page) => page.data.services.totalCount)).size).toBe(1);
    expect(sandbox.stats().requests.services).toBe(1);
  });

  it('polls a watched order once for 300 watchers over three instances, and after kill -9 of the poller every survivor gets COMPLETED once', async () => {
    const id = await placeOrder(instances[0]!.url);
    const groups = instances.map((instance) => watch(() => instance.url, id, 100));
    clients.push(...groups.map((group) => group.client));
    const everyone = groups.flatMap((group) => group.watchers);
    await expect.poll(() => everyone.filter((watcher) => watcher.events.length > 0).length, { timeout: 15_000 }).toBe(300);
    expect(everyone.every((watcher) => statuses(watcher.events)[0] === 'PENDING')).toBe(true);

    // One loop polls every 200 ms (±20%): about 10 calls in 2 s, where three loops would make 30.
    sandbox.resetStats();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const calls = sandbox.stats().requests.status ?? 0;
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(calls).toBeLessThanOrEqual(14);

    const leading = await Promise.all(instances.map((instance) => instance.metric('hstock_poll_loops_leading')));
    expect(leading.filter((count) => count === 1)).toHaveLength(1);
    const poller = leading.indexOf(1);
    await instances[poller]!.kill();
    sandbox.advance(8000);
    const survivors = groups.filter((_, index) => index !== poller).flatMap((group) => group.watchers);
    expect(await Promise.all(survivors.map((watcher) => watcher.done))).toEqual(survivors.map(() => 'complete'));
    for (const watcher of survivors) {
      expect(statuses(watcher.events).filter((status) => status === 'COMPLETED')).toHaveLength(1);
      expect(statuses(watcher.events).at(-1)).toBe('COMPLETED');
    }
    instances[poller] = await start();
  }, 60_000);

  it('polls by itself on each instance while Redis is away, shares the loop again when it is back, and loses no change', async () => {
    const id = await placeOrder(instances[0]!.url);
    const groups = instances.map((instance) => watch(() => instance.url, id, 5));
    clients.push(...groups.map((group) => group.client));
    const everyone = groups.flatMap((group) => group.watchers);
    await expect.poll(() => everyone.filter((watcher) => watcher.events.length > 0).length, { timeout: 15_000 }).toBe(15);

    await redis.kill();
    await expect
      .poll(async () => (await Promise.all(instances.map((instance) => instance.metric('hstock_poll_loops_local')))).join(), {
        timeout: 15_000,
      })
      .toBe('1,1,1');
    sandbox.advance(45);
    await expect
      .poll(() => everyone.filter((watcher) => statuses(watcher.events).includes('IN_PROGRESS')).length, { timeout: 15_000 })
      .toBe(15);

    await redis.start();
    await expect
      .poll(async () => (await Promise.all(instances.map((instance) => instance.metric('hstock_poll_loops_local')))).join(), {
        timeout: 15_000,
      })
      .toBe('0,0,0');
    await expect
      .poll(
        async () => (await Promise.all(instances.map((instance) => instance.metric('hstock_poll_loops_leading')))).reduce((a, b) => a + b),
        { timeout: 15_000 },
      )
      .toBe(1);
    sandbox.advance(8000);
    expect(await Promise.all(everyone.map((watcher) => watcher.done))).toEqual(everyone.map(() => 'complete'));
    for (const watcher of everyone) {
      expect(statuses(watcher.events)).toEqual(['PENDING', 'IN_PROGRESS', 'COMPLETED']);
    }
  }, 60_000);

  it("loses no subscriber's final state and places no order twice through a rolling restart of all three", async () => {
    const id = await placeOrder(instances[0]!.url, 'rolling-1');
    const live = () => instances.find((instance) => instance.child.exitCode === null && instance.child.signalCode === null)!.url;
    const groups = instances.map((instance, index) =>
      watch(() => (instances[index]!.child.exitCode === null ? instances[index]!.url : live()), id, 10, true),
    );
    clients.push(...groups.map((group) => group.client));
    const everyone = groups.flatMap((group) => group.watchers);
    await expect.poll(() => everyone.filter((watcher) => watcher.events.length > 0).length, { timeout: 15_000 }).toBe(30);

    for (const index of [0, 1, 2]) {
      await instances[index]!.stop();
      instances[index] = await start();
    }
    sandbox.resetStats();
    expect(await placeOrder(instances[2]!.url, 'rolling-1')).toBe(id);
    expect(sandbox.stats().requests.add ?? 0).toBe(0);

    sandbox.advance(8000);
    expect(await Promise.all(everyone.map((watcher) => watcher.done))).toEqual(everyone.map(() => 'complete'));
    for (const watcher of everyone) {
      expect(statuses(watcher.events).filter((status) => status === 'COMPLETED')).toHaveLength(1);
      expect(statuses(watcher.events).at(-1)).toBe('COMPLETED');
    }
  }, 90_000);
});
