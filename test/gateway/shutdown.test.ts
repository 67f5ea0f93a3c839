/**
 * Graceful shutdown: stop() completes open subscriptions on both transports and closes every
 * socket, including one that never sent a request, instead of waiting for it to time out.
 */
import { connect } from 'node:net';
import { print } from 'graphql';
import { expect, it } from 'vitest';
import { OrderStatusDocument } from '../generated/graphql.ts';
import { startHarness } from '../harness.ts';
import { collectSse, wsClient } from '../subscribe.ts';

it('completes subscriptions and closes idle and silent sockets at once', async () => {
  const h = await startHarness({ config: { orderPollMs: 60_000, orderPollMaxMs: 60_000 } });
  try {
    const id = await h.placeOrder();

    let sseFirst!: () => void;
    const sseOpen = new Promise<void>((resolve) => (sseFirst = resolve));
    const sse = collectSse(h.url, OrderStatusDocument, { id }, { onEvent: () => sseFirst() });
    const ws = wsClient(h.url);
    const wsDone = new Promise<string>((resolve, reject) => {
      ws.subscribe({ query: print(OrderStatusDocument), variables: { id } }, { next: () => {}, error: reject, complete: () => resolve('complete') });
    });
    await sseOpen;
    await expect.poll(() => h.gateway.services.hub.subscriptions).toBe(2);

    const { port } = new URL(h.url);
    const silent = connect(Number(port), '127.0.0.1');
    const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
    await new Promise<void>((resolve) => silent.once('connect', () => resolve()));

    // The grace for busy requests is 10 s and Node's headers timeout 60 s; closing in well under
    // both shows that nothing waited on them.
    const stopped = h.gateway.stop().then(() => 'stopped');
    const late = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5000).unref());
    expect(await Promise.race([stopped, late])).toBe('stopped');

    const events = await sse;
    expect(events.at(-1)?.data?.orderStatus).toMatchObject({ id, status: 'PENDING' });
    expect(await wsDone).toBe('complete');
    await silentClosed;
    expect(h.gateway.services.hub.loops).toBe(0);
    await ws.dispose();
  } finally {
    await h.sandbox.close();
  }
});
