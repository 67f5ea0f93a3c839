/**
 * Who may subscribe over WebSocket, and how many: connection auth (refused with 4403), per-operation
 * headers as GraphiQL sends them, and the per-connection and per-tenant limits.
 */
import { print, type FormattedExecutionResult } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_KEYS } from '../../src/sandbox/world/accounts.ts';
import { OrderStatusDocument, OrderUpdatesDocument } from '../generated/graphql.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY, RESELLER_KEY } from '../support/keys.ts';
import { collectSse, collectWs, wsClient } from '../support/subscribe.ts';

type Outcome = { event: FormattedExecutionResult<Record<string, unknown>, unknown> } | { error: unknown };

/** A subscription left open; `first` settles with its first event or its error. */
function hold(client: Client, id: string, extensions?: Record<string, unknown>) {
  let dispose!: () => void;
  const first = new Promise<Outcome>((resolve) => {
    dispose = client.subscribe(
      { query: print(OrderStatusDocument), variables: { id }, extensions },
      { next: (event) => resolve({ event }), error: (error) => resolve({ error }), complete: () => {} },
    );
  });
  return { first, dispose };
}

/** The error code an outcome carries, whichever way the server sent it. */
function codeOf(outcome: Outcome): unknown {
  if ('error' in outcome) return (outcome.error as Array<{ extensions?: { code?: string } }>)[0]?.extensions?.code;
  return outcome.event.errors?.[0]?.extensions?.code;
}

/** Keys the supplier knows but this gateway has not yet seen answered. */
const FRESH_KEY = 'sandbox-fresh-key';
const UNSEEN_KEY = 'sandbox-unseen-key';

describe('WebSocket auth (pass-through)', () => {
  let h: Harness;
  let id: string;
  beforeAll(async () => {
    const keys = [...DEFAULT_KEYS, { key: FRESH_KEY, balance: '5.00' }, { key: UNSEEN_KEY, balance: '5.00' }];
    h = await startHarness({ sandbox: { keys } });
    id = await h.placeOrder();
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.sandbox.clearFaults();
    h.sandbox.resetStats();
  });

  it('refuses a connection whose key the supplier rejects with close code 4403', async () => {
    const client = wsClient(h.url, { apiKey: 'not-a-real-key' });
    await expect(collectWs(client, OrderStatusDocument, { id })).rejects.toMatchObject({ code: 4403 });
    await client.dispose();
    expect(h.calls('status')).toBe(0);
  });

  it('asks the supplier once about a bad key, however many connections present it', async () => {
    const attempts = () =>
      Array.from({ length: 5 }, async () => {
        const client = wsClient(h.url, { apiKey: 'another-bad-key' });
        await expect(collectWs(client, OrderStatusDocument, { id })).rejects.toMatchObject({ code: 4403 });
        await client.dispose();
      });
    await Promise.all(attempts());
    await Promise.all(attempts());
    expect(h.calls('balance')).toBe(1);
  });

  it('checks a key the supplier has not answered lately once, then admits reconnections without a call', async () => {
    for (const params of [{ apiKey: FRESH_KEY }, { authorization: `Bearer ${FRESH_KEY}` }, { apiKey: FRESH_KEY }]) {
      const client = wsClient(h.url, params);
      const { first, dispose } = hold(client, id);
      expect(codeOf(await first)).toBe('NOT_FOUND'); // admitted: the order is another key's
      dispose();
      await client.dispose();
    }
    expect(h.calls('balance')).toBe(1);
  });

  it('admits a key the supplier answered lately without asking again', async () => {
    const client = wsClient(h.url, { apiKey: DEMO_KEY });
    const { first, dispose } = hold(client, id);
    expect(await first).toMatchObject({ event: { data: { orderStatus: { id, status: 'PENDING' } } } });
    dispose();
    await client.dispose();
    expect(h.calls('balance')).toBe(0);
  });

  it('admits a key while the supplier is failing, rather than calling it bad', async () => {
    h.sandbox.setFaults({ serverErrorRate: 1, actions: ['balance'] });
    const client = wsClient(h.url, { apiKey: UNSEEN_KEY });
    const { first, dispose } = hold(client, id);
    expect(codeOf(await first)).toBe('NOT_FOUND');
    dispose();
    await client.dispose();
    expect(h.calls('balance')).toBeGreaterThan(0);
  });

  it('accepts a connection without a key, and answers each operation without one with UNAUTHENTICATED', async () => {
    const client = wsClient(h.url, {});
    const { first } = hold(client, id);
    expect(codeOf(await first)).toBe('UNAUTHENTICATED');
    await client.dispose();
    expect(h.calls()).toBe(0);
  });

  it("takes the key from an operation's extensions.headers, as GraphiQL sends its header editor", async () => {
    const client = wsClient(h.url, {});
    const { first, dispose } = hold(client, id, { headers: { Authorization: `Bearer ${DEMO_KEY}` } });
    expect(await first).toMatchObject({ event: { data: { orderStatus: { id, status: 'PENDING' } } } });
    dispose();
    await client.dispose();
  });
});

describe('WebSocket auth (server key)', () => {
  it('refuses an unknown gateway token with 4403 and admits a known one', async () => {
    const h = await startHarness({ config: { serverKey: DEMO_KEY, gatewayTokens: ['frontend-token'] } });
    try {
      const id = await h.placeOrder({ key: 'frontend-token' });
      h.sandbox.resetStats();
      const refused = wsClient(h.url, { authorization: 'Bearer guessed-token' });
      await expect(collectWs(refused, OrderStatusDocument, { id })).rejects.toMatchObject({ code: 4403 });
      await refused.dispose();

      const admitted = wsClient(h.url, { authorization: 'Bearer frontend-token' });
      const { first, dispose } = hold(admitted, id);
      expect(await first).toMatchObject({ event: { data: { orderStatus: { id } } } });
      dispose();
      await admitted.dispose();
      expect(h.calls('balance')).toBe(0);
    } finally {
      await h.close();
    }
  });
});

describe('subscription limits', () => {
  let h: Harness;
  let id: string;
  beforeAll(async () => {
    h = await startHarness({
      config: { subscriptionsPerConnection: 2, subscriptionsPerTenant: 3, orderPollMs: 60_000, orderPollMaxMs: 60_000 },
    });
    id = await h.placeOrder();
  });
  afterAll(() => h.close());

  it('refuses a subscription past SUBSCRIPTIONS_PER_CONNECTION with RATE_LIMITED, and admits one once a slot frees', async () => {
    const client = wsClient(h.url);
    const a = hold(client, id);
    const b = hold(client, id);
    expect(codeOf(await a.first)).toBeUndefined();
    expect(codeOf(await b.first)).toBeUndefined();

    const refused = hold(client, id);
    expect(codeOf(await refused.first)).toBe('RATE_LIMITED');
    expect(JSON.stringify(await refused.first)).toContain('At most 2 subscriptions per connection');

    a.dispose();
    await expect.poll(() => h.gateway.runtime.hub.subscriptions).toBe(1);
    const again = hold(client, id);
    expect(codeOf(await again.first)).toBeUndefined();
    b.dispose();
    again.dispose();
    await client.dispose();
    await expect.poll(() => h.gateway.runtime.hub.subscriptions).toBe(0);
  });

  it('keeps the per-connection limit when a client completes operations while they start, and ends them all on disconnect', async () => {
    const socket = new WebSocket(h.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const replies: Array<{ type: string; id?: string; payload?: unknown }> = [];
    socket.on('message', (data) => replies.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: DEMO_KEY } }));
    await expect.poll(() => replies.some((reply) => reply.type === 'connection_ack')).toBe(true);
    const subscribe = JSON.stringify({ id: 'x', type: 'subscribe', payload: { query: print(OrderStatusDocument), variables: { id } } });
    for (let i = 0; i < 20; i += 1) {
      socket.send(subscribe);
      socket.send(JSON.stringify({ id: 'x', type: 'complete' }));
    }
    socket.send(subscribe);
    await expect.poll(() => replies.filter((reply) => reply.type === 'next' || reply.type === 'error').length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.gateway.runtime.hub.subscriptions).toBeLessThanOrEqual(2);

    socket.terminate();
    await expect.poll(() => h.gateway.runtime.hub.subscriptions).toBe(0);
    expect(h.gateway.runtime.hub.loops).toBe(0);
  });

  it('refuses a subscription past SUBSCRIPTIONS_PER_TENANT on any connection or transport, and not other tenants', async () => {
    const clients = [wsClient(h.url), wsClient(h.url)];
    const held = [hold(clients[0]!, id), hold(clients[0]!, id), hold(clients[1]!, id)];
    for (const { first } of held) expect(codeOf(await first)).toBeUndefined();
    expect(h.gateway.runtime.hub.subscriptions).toBe(3);

    expect(codeOf(await hold(clients[1]!, id).first)).toBe('RATE_LIMITED');
    const [sse] = await collectSse(h.url, OrderStatusDocument, { id });
    expect(sse?.errors?.[0]).toMatchObject({
      message: 'At most 3 subscriptions per tenant are allowed.',
      extensions: { code: 'RATE_LIMITED' },
    });

    const other = wsClient(h.url, { apiKey: RESELLER_KEY });
    const order = await h.placeOrder({ key: RESELLER_KEY });
    const theirs = hold(other, order);
    expect(codeOf(await theirs.first)).toBeUndefined();

    theirs.dispose();
    for (const { dispose } of held) dispose();
    await Promise.all([...clients, other].map((client) => client.dispose()));
    await expect.poll(() => h.gateway.runtime.hub.subscriptions).toBe(0);
  });

  it('refuses orderUpdates whose ids would pass the tenant limit, leaving no watch behind', async () => {
    const ids = [id, await h.placeOrder(), await h.placeOrder(), await h.placeOrder()];
    const client = wsClient(h.url);
    const [event] = await collectWs(client, OrderUpdatesDocument, { ids });
    expect(event?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(h.gateway.runtime.hub.subscriptions).toBe(0);
    expect(h.gateway.runtime.hub.loops).toBe(0);

    const fits = hold(client, id);
    expect(codeOf(await fits.first)).toBeUndefined();
    fits.dispose();
    await client.dispose();
  });
});
