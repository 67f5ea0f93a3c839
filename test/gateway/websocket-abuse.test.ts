/**
 * Abuse over WebSocket, each attempt as an attacker made it: frames too big, a client that never
 * reads, connections that never present credentials, guessed keys, and subscription starts to
 * made-up orders. Counted by close codes, refusals and the sandbox's supplier calls.
 */
import type { Socket } from 'node:net';
import { print } from 'graphql';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BalanceDocument, OrderStatusDocument, OrderUpdatesDocument } from '../generated/graphql.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY, RESELLER_KEY } from '../support/keys.ts';
import { collectSse, collectWs, wsClient } from '../support/subscribe.ts';

interface Message {
  type: string;
  id?: string;
  payload?: unknown;
}

type Errors = Array<{ message: string; extensions?: Record<string, unknown> }>;

/** A raw graphql-transport-ws socket: every message it got, and how it closed. */
interface Raw {
  socket: WebSocket;
  messages: Message[];
  closed: Promise<{ code: number; reason: string }>;
}

function open(h: Harness): Promise<Raw> {
  const socket = new WebSocket(h.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: Message[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as Message));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, messages, closed }));
    socket.once('unexpected-response', (_request, response) =>
      reject(
        Object.assign(new Error(`HTTP ${response.statusCode}`), {
          status: response.statusCode,
          retryAfter: response.headers['retry-after'],
        }),
      ),
    );
  });
}

/** Sends connection_init; resolves with the answer: `ack`, or the close code. */
async function init(raw: Raw, payload: Record<string, unknown>): Promise<'ack' | number> {
  raw.socket.send(JSON.stringify({ type: 'connection_init', payload }));
  const acked = (async () => {
    await expect.poll(() => raw.messages.some((message) => message.type === 'connection_ack')).toBe(true);
    return 'ack' as const;
  })();
  return Promise.race([acked, raw.closed.then(({ code }) => code)]);
}

/** Subscribes and resolves with the first thing the operation answers: its first event, or its errors. */
async function first(raw: Raw, id: string, payload: Record<string, unknown>): Promise<Message> {
  raw.socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
  await expect.poll(() => raw.messages.find((message) => message.id === id)).toBeDefined();
  return raw.messages.find((message) => message.id === id)!;
}

/** The code and reason of the error an operation's first message carries, whichever way it came. */
function errorOf(message: Message): Record<string, unknown> | undefined {
  const errors = message.type === 'error' ? (message.payload as Errors) : (message.payload as { errors?: Errors } | undefined)?.errors;
  return errors?.[0]?.extensions;
}

const orderStatus = (id: string, headers?: Record<string, string>) => ({
  query: print(OrderStatusDocument),
  variables: { id },
  ...(headers ? { extensions: { headers } } : {}),
});

/** Refusals counted in hstock_rate_limited_total for one reason. */
async function refusals(h: Harness, reason: string): Promise<number> {
  const { values } = await h.gateway.runtime.metrics.rateLimited.get();
  return values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

/** 100 aliases of the SMS project list: one supplier call, an answer of about 1.4 MB. */
const LARGE = `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: smsProjects { id name price countryCode countryName }`).join(' ')} }`;

describe('frames over MAX_BODY_BYTES', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { maxBodyBytes: 4096 } });
  });
  afterAll(() => h.close());

  it('closes a connection with 1009 on a frame over MAX_BODY_BYTES, before any credentials', async () => {
    const raw = await open(h);
    expect(await init(raw, { padding: 'x'.repeat(8192) })).toBe(1009);
    expect(raw.messages).toEqual([]);

    const within = await open(h);
    expect(await init(within, { apiKey: DEMO_KEY, padding: 'x'.repeat(2048) })).toBe('ack');
    within.socket.close();
  });
});

describe('a WebSocket client that does not read', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { wsMaxPendingBytes: 256 * 1024 } });
  });
  afterAll(() => h.close());

  it('closes a connection with 4413 once more than WS_MAX_PENDING_BYTES wait to be sent, and serves another client meanwhile', async () => {
    let gatewaySide: Socket | undefined;
    h.gateway.server.once('upgrade', (_request, socket: Socket) => (gatewaySide = socket));
    const raw = await open(h);
    expect(await init(raw, { apiKey: DEMO_KEY })).toBe('ack');
    raw.socket.pause();
    // Far more than the kernel's socket buffers hold on loopback, so the gateway's own queue fills.
    for (let i = 0; i < 60; i += 1) raw.socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: LARGE } }));
    await expect.poll(() => refusals(h, 'NOT_READING')).toBe(1);
    // What waits for this client: the bound and the one answer that passed it, and nothing after.
    expect(gatewaySide!.writableLength).toBeLessThan(256 * 1024 + 1_500_000);

    const other = wsClient(h.url);
    const [answer] = await collectWs(other, BalanceDocument, {});
    expect(answer?.data?.balance.amount).toBe('1000.00');
    await other.dispose();

    raw.socket.resume();
    const { code, reason } = await raw.closed;
    expect(code).toBe(4413);
    expect(reason).toMatch(/does not read/);
    expect(raw.messages.filter((message) => message.type === 'next').length).toBeLessThan(60);
  });
});

describe('connections without credentials', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('closes a connection that sends no connection_init within WS_INIT_TIMEOUT_MS with 4408', async () => {
    h = await startHarness({ config: { wsInitTimeoutMs: 200 } });
    const started = performance.now();
    const raw = await open(h);
    expect((await raw.closed).code).toBe(4408);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('refuses the upgrade with HTTP 429 from an address holding WS_UNAUTHENTICATED_PER_ADDRESS connections without an identity', async () => {
    h = await startHarness({ config: { wsUnauthenticatedPerAddress: 2, wsInitTimeoutMs: 10_000 } });
    const authenticated = await open(h);
    expect(await init(authenticated, { apiKey: DEMO_KEY })).toBe('ack');
    const keyless = await open(h);
    expect(await init(keyless, {})).toBe('ack');
    const silent = await open(h);

    await expect(open(h)).rejects.toMatchObject({ status: 429, retryAfter: expect.stringMatching(/^\d+$/) });
    expect(await refusals(h, 'UNAUTHENTICATED_CONNECTIONS')).toBe(1);

    keyless.socket.close();
    await keyless.closed;
    let again: Raw | undefined;
    await expect.poll(async () => (again = await open(h).catch(() => undefined))).toBeDefined();
    for (const raw of [authenticated, silent, again!]) raw.socket.close();
  });
});

describe('failing credentials over WebSocket', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ config: { authFailuresPerMinute: 5 } });
    // The demo key answered lately: it passes even from an address that failed too often.
    await h.request(BalanceDocument);
    h.sandbox.resetStats();
  });
  afterEach(() => h.close());

  it('counts keys rejected at connection_init against the address: past AUTH_FAILURES_PER_MINUTE, 4429 and no supplier call', async () => {
    const answers: Array<'ack' | number> = [];
    for (let n = 0; n < 10; n += 1) answers.push(await init(await open(h), { apiKey: `made-up-${n}` }));
    expect(answers).toEqual([4403, 4403, 4403, 4403, 4403, 4429, 4429, 4429, 4429, 4429]);
    expect(h.calls('balance')).toBe(5);

    const proven = await open(h);
    expect(await init(proven, { apiKey: DEMO_KEY })).toBe('ack');
    proven.socket.close();
  });

  it("counts keys rejected in an operation's extensions.headers the same way", async () => {
    const raw = await open(h);
    expect(await init(raw, {})).toBe('ack');
    const codes = [];
    for (let n = 0; n < 10; n += 1) {
      const error = errorOf(await first(raw, `s${n}`, orderStatus('1', { Authorization: `Bearer made-up-${n}` })));
      codes.push(error?.reason ?? error?.code);
    }
    expect(codes).toEqual([...Array(5).fill('UNAUTHENTICATED'), ...Array(5).fill('AUTH_FAILURES')]);
    expect(h.calls('status')).toBe(5);
    raw.socket.close();
  });
});

describe('subscription starts', () => {
  let h: Harness;
  afterEach(() => h.close());

  it("refuses starts past SUBSCRIPTION_STARTS_BURST with RATE_LIMITED on either transport, an id of orderUpdates counting as one, and not another tenant's", async () => {
    h = await startHarness({ config: { subscriptionStarts: { perSecond: 0.01, burst: 5 } } });
    const raw = await open(h);
    expect(await init(raw, { apiKey: DEMO_KEY })).toBe('ack');
    const ids = Array.from({ length: 6 }, (_, n) => String(8_000_000 + n));
    const all = errorOf(await first(raw, 'all', { query: print(OrderUpdatesDocument), variables: { ids } }));
    expect(all).toMatchObject({ code: 'RATE_LIMITED', reason: 'SUBSCRIPTION_RATE' });
    expect(h.calls('status')).toBe(0);

    const codes = [];
    for (const id of ids) codes.push(errorOf(await first(raw, id, orderStatus(id)))?.code);
    expect(codes).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'RATE_LIMITED']);
    expect(h.calls('status')).toBe(5);
    const [sse] = await collectSse(h.url, OrderStatusDocument, { id: ids[0]! });
    expect(sse?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'SUBSCRIPTION_RATE' });
    expect(await refusals(h, 'SUBSCRIPTION_RATE')).toBe(3);

    const other = await open(h);
    expect(await init(other, { apiKey: RESELLER_KEY })).toBe('ack');
    expect(errorOf(await first(other, 'theirs', orderStatus('8000100')))?.code).toBe('NOT_FOUND');
    for (const socket of [raw, other]) socket.socket.close();
  });

  it('answers a repeated start to an order the supplier did not find from memory, per tenant', async () => {
    h = await startHarness();
    const raw = await open(h);
    expect(await init(raw, { apiKey: DEMO_KEY })).toBe('ack');
    for (let n = 0; n < 10; n += 1) expect(errorOf(await first(raw, `x${n}`, orderStatus('8000200')))?.code).toBe('NOT_FOUND');
    expect(h.calls('status')).toBe(1);

    const other = await open(h);
    expect(await init(other, { apiKey: RESELLER_KEY })).toBe('ack');
    expect(errorOf(await first(other, 'theirs', orderStatus('8000200')))?.code).toBe('NOT_FOUND');
    expect(h.calls('status')).toBe(2);
    for (const socket of [raw, other]) socket.socket.close();
  });
});
