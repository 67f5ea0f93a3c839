/**
 * Subscribers grouped by what they receive: one execution per event for a whole group, over
 * WebSocket and SSE together; never a payload across callers; the limits still counted per
 * subscriber; and the execution and its poll loop gone with the group's last subscriber.
 */
import { print, type ExecutionResult, type GraphQLFieldResolver } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { schema } from '../../src/schema/index.ts';
import { AddOrderDocument, CustomerOrderStatusDocument, OrderStatusDocument, type OrderStatusSubscription } from '../generated/graphql.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { startIdentity, trusting } from '../support/identity.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { collectSse, wsClient } from '../support/subscribe.ts';

type Event = ExecutionResult<OrderStatusSubscription>;

/** A subscription left open on a graphql-ws client: what it got, and how to leave. */
function watch(client: Client, id: string) {
  const events: Event[] = [];
  let completed = false;
  const dispose = client.subscribe(
    { query: print(OrderStatusDocument), variables: { id } },
    {
      next: (event) => void events.push(event as Event),
      error: (error) => void events.push({ errors: error as never }),
      complete: () => void (completed = true),
    },
  );
  return { events, dispose, completed: () => completed };
}

const statusOf = (event: Event | undefined) => event?.data?.orderStatus.status;

/** Counts how often the `orderStatus` field is resolved: once per event per execution. */
function countExecutions() {
  const field = schema.getSubscriptionType()!.getFields().orderStatus!;
  const resolve = field.resolve!;
  const counter = { executions: 0, restore: () => void (field.resolve = resolve) };
  field.resolve = ((...args: Parameters<GraphQLFieldResolver<unknown, unknown>>) => {
    counter.executions += 1;
    return resolve(...args);
  }) as GraphQLFieldResolver<unknown, unknown>;
  return counter;
}

describe('one group', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: { orderPollMs: 20, orderPollMaxMs: 80, subscriptionStarts: { perSecond: 10_000, burst: 10_000 } },
      sandbox: { partialShare: 0, cancelShare: 0 },
    });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.resetStats());

  it('costs one execution per event for 1,000 subscribers on 10 connections', async () => {
    const id = await h.placeOrder();
    const counter = countExecutions();
    const clients = Array.from({ length: 10 }, () => wsClient(h.url));
    try {
      const watchers = Array.from({ length: 1000 }, (_, n) => watch(clients[n % clients.length]!, id));
      await expect.poll(() => watchers.filter((watcher) => watcher.events.length > 0).length, { timeout: 10_000 }).toBe(1000);
      expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 1000 });
      expect(h.gateway.runtime.hub.subscriptions).toBe(1000);
      expect(watchers.every((watcher) => statusOf(watcher.events[0]) === 'PENDING')).toBe(true);
      expect(counter.executions).toBe(1);

      h.sandbox.advance(45);
      await expect
        .poll(() => watchers.filter((watcher) => statusOf(watcher.events.at(-1)) === 'IN_PROGRESS').length, { timeout: 10_000 })
        .toBe(1000);
      expect(counter.executions).toBe(2);
      expect(watchers.every((watcher) => watcher.events.length === 2)).toBe(true);
      const executed = (await h.gateway.runtime.metrics.groupEvents.get()).values[0]?.value;
      expect(executed).toBe(2);

      for (const watcher of watchers) watcher.dispose();
      await expect.poll(() => h.gateway.runtime.groups.sizes.groups).toBe(0);
      expect(h.gateway.runtime.hub.loops).toBe(0);
    } finally {
      counter.restore();
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  it('shares one group between WebSocket and SSE subscribers, who get the same events', async () => {
    const id = await h.placeOrder();
    const client = wsClient(h.url);
    try {
      const ws = watch(client, id);
      await expect.poll(() => ws.events.length).toBe(1);
      const sse: Event[] = [];
      const done = collectSse(h.url, OrderStatusDocument, { id }, { onEvent: (event) => sse.push(event) });
      await expect.poll(() => sse.length).toBe(1);
      expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 2 });
      h.sandbox.advance(45);
      await expect.poll(() => statusOf(sse.at(-1))).toBe('IN_PROGRESS');
      h.sandbox.advance(7200);
      await done;
      await expect.poll(() => ws.completed()).toBe(true);
      expect(ws.events.map(statusOf)).toEqual(sse.map(statusOf));
      expect(ws.events.map(statusOf)).toEqual(['PENDING', 'IN_PROGRESS', 'COMPLETED']);
    } finally {
      await client.dispose();
    }
  });

  it('counts every subscriber under the limits, whichever leaves first, and stops the execution and its poll with the last', async () => {
    const id = await h.placeOrder();
    const client = wsClient(h.url);
    try {
      const watchers = Array.from({ length: 20 }, () => watch(client, id));
      await expect.poll(() => watchers.filter((watcher) => watcher.events.length > 0).length).toBe(20);
      expect(h.gateway.runtime.hub.subscriptions).toBe(20);
      // The first subscriber's places are its execution's: they pass to another as it leaves.
      for (const [left, watcher] of watchers.slice(0, 19).entries()) {
        watcher.dispose();
        await expect.poll(() => h.gateway.runtime.hub.subscriptions).toBe(19 - left);
        expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 19 - left });
      }
      expect(h.gateway.runtime.hub.loops).toBe(1);
      watchers[19]!.dispose();
      await expect.poll(() => h.gateway.runtime.hub.loops).toBe(0);
      expect(h.gateway.runtime.groups.sizes.groups).toBe(0);
      expect(h.gateway.runtime.hub.subscriptions).toBe(0);
      h.sandbox.resetStats();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(h.calls('status')).toBe(0);
    } finally {
      await client.dispose();
    }
  });
});

describe('subscribers and their group, at the edges', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { orderPollMs: 20, orderPollMaxMs: 80 }, sandbox: { partialShare: 0, cancelShare: 0 } });
  });
  afterAll(() => h.close());

  /** Makes each Redis place take `ms`: a subscriber joining waits that long in its admission. */
  function slowPlaces(ms: number) {
    const runtime = h.gateway.runtime;
    const saved = runtime.sharedLimits;
    runtime.sharedLimits = {
      acquire: async () => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return true;
      },
      release: async () => {},
    } as unknown as typeof saved;
    return () => void (runtime.sharedLimits = saved);
  }

  it("charges a refused subscriber's address once for failing credentials, on both transports", async () => {
    const failures = h.gateway.runtime.authFailures;
    const charge = failures.charge.bind(failures);
    let charges = 0;
    failures.charge = (req) => {
      charges += 1;
      charge(req);
    };
    const client = wsClient(h.url, {});
    try {
      const refused = watch(client, '12345');
      await expect.poll(() => refused.completed()).toBe(true);
      expect(refused.events[0]?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(charges).toBe(1);
      const sse = await collectSse(h.url, OrderStatusDocument, { id: '12345' }, { key: '' });
      expect(sse[0]?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(charges).toBe(2);
    } finally {
      failures.charge = charge;
      await client.dispose();
    }
  });

  it('gives a subscriber whose group ended while it was admitted a group of its own, counted once', async () => {
    const id = await h.placeOrder();
    const client = wsClient(h.url);
    const restore = slowPlaces(300);
    try {
      const first = watch(client, id);
      await expect.poll(() => first.events.length).toBe(1);
      const joining = watch(client, id);
      await new Promise((resolve) => setTimeout(resolve, 100));
      first.dispose();
      await expect.poll(() => joining.events.length).toBe(1);
      expect(h.gateway.runtime.hub.subscriptions).toBe(1);
      const another = watch(client, id);
      await expect.poll(() => another.events.length).toBe(1);
      expect(h.gateway.runtime.hub.subscriptions).toBe(2);
      expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 2 });
      joining.dispose();
      another.dispose();
      await expect.poll(() => h.gateway.runtime.hub.subscriptions).toBe(0);
    } finally {
      restore();
      await client.dispose();
    }
  });

  it('lets an SSE subscriber that went while it was joining leave its group', async () => {
    const id = await h.placeOrder();
    const client = wsClient(h.url);
    try {
      const first = watch(client, id);
      await expect.poll(() => first.events.length).toBe(1);
      const restore = slowPlaces(300);
      const abort = new AbortController();
      const gone = collectSse(h.url, OrderStatusDocument, { id }, { signal: abort.signal }).catch(() => 'aborted');
      await new Promise((resolve) => setTimeout(resolve, 100));
      abort.abort();
      expect(await gone).toBe('aborted');
      await expect.poll(() => h.gateway.runtime.groups.sizes.subscribers, { timeout: 2000 }).toBe(1);
      restore();
      first.dispose();
      await expect.poll(() => h.gateway.runtime.groups.sizes.groups).toBe(0);
      expect(h.gateway.runtime.hub.loops).toBe(0);
    } finally {
      await client.dispose();
    }
  });

  it('sets up four operations of one WebSocket at once, reading its further messages as those finish', async () => {
    const id = await h.placeOrder();
    const runtime = h.gateway.runtime;
    const saved = runtime.sharedLimits;
    let waiting = 0;
    let most = 0;
    runtime.sharedLimits = {
      acquire: async () => {
        most = Math.max(most, ++waiting);
        await new Promise((resolve) => setTimeout(resolve, 50));
        waiting -= 1;
        return true;
      },
      release: async () => {},
    } as unknown as typeof saved;
    const client = wsClient(h.url);
    try {
      const watchers = Array.from({ length: 20 }, () => watch(client, id));
      await expect.poll(() => watchers.filter((watcher) => watcher.events.length > 0).length).toBe(20);
      // Four operations at a time take places, and the group's execution, which the first started, its own.
      expect(most).toBeLessThanOrEqual(5);
    } finally {
      runtime.sharedLimits = saved;
      await client.dispose();
    }
  });

  it('gives an id reused after a complete, while the first operation was still being set up, to the second operation', async () => {
    const [first, second] = [await h.placeOrder(), await h.placeOrder()];
    const socket = new WebSocket(h.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const messages: Array<{ id?: string; type: string; payload?: Event }> = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data)) as (typeof messages)[number]));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: DEMO_KEY } }));
    await expect.poll(() => messages.some((message) => message.type === 'connection_ack')).toBe(true);
    const subscribe = (id: string) => ({ id: 'x', type: 'subscribe', payload: { query: print(OrderStatusDocument), variables: { id } } });
    try {
      socket.send(JSON.stringify(subscribe(first)));
      socket.send(JSON.stringify({ id: 'x', type: 'complete' }));
      socket.send(JSON.stringify(subscribe(second)));
      await expect.poll(() => messages.filter((message) => message.id === 'x' && message.type === 'next').length).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ids = messages
        .filter((message) => message.id === 'x' && message.type === 'next')
        .map((message) => message.payload?.data?.orderStatus.id);
      expect(new Set(ids)).toEqual(new Set([second]));
      expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 1 });
    } finally {
      socket.close();
    }
  });

  it('refuses a subscription over HTTP that cannot be streamed, without joining a group or polling', async () => {
    const id = await h.placeOrder();
    h.sandbox.resetStats();
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify({ query: print(OrderStatusDocument), variables: { id } }),
    });
    const answer = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(h.gateway.runtime.groups.sizes.groups).toBe(0);
    expect(h.gateway.runtime.hub.loops).toBe(0);
    expect(h.calls('status')).toBe(0);
  });
});

describe('the per-tenant limit with groups', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { subscriptionsPerTenant: 3 } });
  });
  afterAll(() => h.close());

  it('refuses a subscriber joining a running group past SUBSCRIPTIONS_PER_TENANT, and admits one once another left', async () => {
    const id = await h.placeOrder();
    const client = wsClient(h.url);
    try {
      const watchers = Array.from({ length: 3 }, () => watch(client, id));
      await expect.poll(() => watchers.filter((watcher) => watcher.events.length > 0).length).toBe(3);
      const refused = watch(client, id);
      await expect.poll(() => refused.completed()).toBe(true);
      expect(refused.events[0]?.errors?.[0]).toMatchObject({
        path: ['orderStatus'],
        extensions: { code: 'RATE_LIMITED', reason: 'SUBSCRIPTIONS_PER_TENANT' },
      });
      watchers[0]!.dispose();
      await expect.poll(() => h.gateway.runtime.hub.subscriptions).toBe(2);
      const admitted = watch(client, id);
      await expect.poll(() => statusOf(admitted.events[0])).toBe('PENDING');
      expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 3 });
    } finally {
      await client.dispose();
    }
  });
});

describe('two callers watching one order with one document', () => {
  const ALICE = 'a-secret-1';
  const BOB = 'b-secret-2';
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: { serverKey: DEMO_KEY, gatewayTokens: [`alice:${ALICE}`, `bob:${BOB}`], orderPollMs: 20, orderPollMaxMs: 80 },
      sandbox: { partialShare: 0, cancelShare: 0 },
    });
  });
  afterAll(() => h.close());

  it("sends the owner's events to the owner only, on both transports, whoever subscribed first", async () => {
    const id = await h.placeOrder({ key: ALICE });
    const alice = wsClient(h.url, { authorization: `Bearer ${ALICE}` });
    const bob = wsClient(h.url, { authorization: `Bearer ${BOB}` });
    try {
      const early = watch(bob, id);
      await expect.poll(() => early.completed()).toBe(true);
      const owner = watch(alice, id);
      await expect.poll(() => statusOf(owner.events[0])).toBe('PENDING');
      // Alice's group runs: Bob's subscriptions with the same document and variables get nothing of it.
      const late = watch(bob, id);
      await expect.poll(() => late.completed()).toBe(true);
      const sse = await collectSse(h.url, OrderStatusDocument, { id }, { key: BOB });
      for (const events of [early.events, late.events, sse]) {
        expect(events.map((event) => event.errors?.[0]?.extensions?.code)).toEqual(['NOT_FOUND']);
        expect(events.some((event) => event.data)).toBe(false);
      }
      expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 1 });
      h.sandbox.advance(45);
      await expect.poll(() => statusOf(owner.events.at(-1))).toBe('IN_PROGRESS');
      expect(late.events).toHaveLength(1);
    } finally {
      await Promise.all([alice.dispose(), bob.dispose()]);
    }
  });
});

describe('signed-in customers in one group', () => {
  let idp: Awaited<ReturnType<typeof startIdentity>>;
  let h: Harness;
  beforeAll(async () => {
    idp = await startIdentity({ accessTokenTtlS: 3 });
    h = await startHarness({
      config: { serverKey: DEMO_KEY, jwt: trusting(idp), orderPollMs: 60_000, orderPollMaxMs: 60_000 },
    });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });
  afterEach(() => h.sandbox.resetStats());

  it('ends each subscriber at its own token’s expiry, and the group goes on for the others', async () => {
    // Expiries are whole seconds: the second token is taken in the next second, to outlive the first.
    // Expiries are whole seconds: the second token is taken in the next second, to outlive the first.
    const first = (await idp.tokenFor('alice')).accessToken;
    const nextSecond = Math.floor(Date.now() / 1000) + 1;
    await new Promise((resolve) => setTimeout(resolve, nextSecond * 1000 - Date.now() + 10));
    const second = (await idp.tokenFor('alice')).accessToken;
    const input = { serviceId: '1001', quantity: 100, link: 'https://instagram.com/p/groups' };
    const id = (await h.request(AddOrderDocument, { input }, { key: first })).data!.addOrder.id;
    const earlier: unknown[] = [];
    const ended = collectSse(h.url, CustomerOrderStatusDocument, { id }, { key: first, onEvent: (event) => earlier.push(event) });
    await expect.poll(() => earlier.length).toBe(1);
    const later: unknown[] = [];
    const goesOn = collectSse(h.url, CustomerOrderStatusDocument, { id }, { key: second, onEvent: (event) => later.push(event) });
    await expect.poll(() => later.length).toBe(1);
    expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 2 });

    const events = await ended;
    expect(events.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    expect(later).toHaveLength(1);
    expect(h.gateway.runtime.groups.sizes).toMatchObject({ groups: 1, subscribers: 1 });
    const rest = await goesOn;
    expect(rest.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    await expect.poll(() => h.gateway.runtime.hub.loops).toBe(0);
  });
});
