/**
 * Graceful shutdown: requests already received are answered and placements in flight recorded;
 * what arrives later gets 503; open subscriptions are told to resubscribe elsewhere, never that
 * they completed; idle and silent sockets close at once.
 */
import { connect } from 'node:net';
import { print } from 'graphql';
import { expect, it } from 'vitest';
import { AddOrderDocument, OrderStatusDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { startHarness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { collectSse, wsClient } from '../support/subscribe.ts';

it('ends open subscriptions for a restart (WebSocket 1012, SSE a retryable error) and closes idle and silent sockets at once', async () => {
  const h = await startHarness({ config: { orderPollMs: 60_000, orderPollMaxMs: 60_000 } });
  try {
    const id = await h.placeOrder();

    let sseFirst!: () => void;
    const sseOpen = new Promise<void>((resolve) => (sseFirst = resolve));
    const sse = collectSse(h.url, OrderStatusDocument, { id }, { onEvent: () => sseFirst() });
    const ws = wsClient(h.url);
    const wsDone = new Promise<unknown>((resolve) => {
      ws.subscribe(
        { query: print(OrderStatusDocument), variables: { id } },
        { next: () => {}, error: resolve, complete: () => resolve('complete') },
      );
    });
    await sseOpen;
    await expect.poll(() => h.gateway.runtime.hub.subscriptions).toBe(2);

    const { port } = new URL(h.url);
    const silent = connect(Number(port), '127.0.0.1');
    const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));

    // The grace for busy requests is 15 s and Node's headers timeout 60 s; closing in well under
    // both shows that nothing waited on them.
    const stopped = h.gateway.stop().then(() => 'stopped');
    const late = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000).unref());
    expect(await Promise.race([stopped, late])).toBe('stopped');

    const events = await sse;
    expect(events[0]?.data?.orderStatus).toMatchObject({ id, status: 'PENDING' });
    expect(events.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'SHUTTING_DOWN' });
    expect(await wsDone).toMatchObject({ code: 1012 });
    await silentClosed;
    expect(h.gateway.runtime.hub.loops).toBe(0);
    await ws.dispose();
  } finally {
    await h.sandbox.close();
  }
});

it('answers a placement in flight and records it before exiting; requests after that get 503 and spend nothing', async () => {
  const h = await startHarness();
  try {
    const service = (await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' })).data!.services.edges[0]!.node;
    const input = (key: string) => ({
      serviceId: service.id,
      quantity: service.min,
      link: 'https://instagram.com/p/s',
      idempotencyKey: key,
    });
    h.sandbox.setFaults({ latencyMs: 800, actions: ['add'] });
    const inFlight = h.request(AddOrderDocument, { input: input('in-flight') });
    await expect.poll(() => h.calls('add')).toBe(1);

    const stopped = h.gateway.stop();
    const late = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify({ query: print(AddOrderDocument), variables: { input: input('late') } }),
    });
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(late.headers.get('connection')).toBe('close');
    expect(((await late.json()) as { errors: Array<{ extensions: unknown }> }).errors[0]!.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });

    const answer = await inFlight;
    expect(answer.errors).toBeUndefined();
    await stopped;
    expect(h.calls('add')).toBe(1);
    // Recorded before stop() resolved: the ledger lists it as placed, with the id the client got.
    const caller = h.gateway.runtime.auth.identify({ authorization: `Bearer ${DEMO_KEY}` });
    if (!caller.ok) throw new Error(caller.reason);
    const { placements } = await h.gateway.runtime.state.ledger.page(caller, 'order', 10);
    expect(placements.map((placement) => [placement.idempotencyKey, placement.outcome, placement.orderIds])).toEqual([
      ['in-flight', 'PLACED', [answer.data!.addOrder.id]],
    ]);
  } finally {
    await h.sandbox.close();
  }
});

it('answers every request of a burst that raced the signal, with its result or 503, and resets none', async () => {
  const h = await startHarness();
  try {
    h.sandbox.setFaults({ latencyMs: 100, latencyJitterMs: 100, actions: ['balance'] });
    const burst = Array.from({ length: 120 }, () =>
      fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
        body: JSON.stringify({ query: '{ balance { amount } }' }),
      }).then(
        (response) => response.status,
        (error: unknown) => `failed: ${String((error as { cause?: unknown }).cause ?? error)}`,
      ),
    );
    await expect.poll(() => h.calls('balance')).toBeGreaterThan(0);
    await h.gateway.stop();
    const statuses = await Promise.all(burst);
    expect(statuses.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    expect(statuses).toContain(200);
  } finally {
    await h.sandbox.close();
  }
});
