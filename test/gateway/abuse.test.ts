/**
 * Abuse resistance, each attempt as an attacker made it, with the supplier calls counted by the
 * sandbox: no caller can exhaust the supplier account, the connection pool or the memory.
 */
import { connect } from 'node:net';
import Big from 'big.js';
import { print } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_KEYS } from '../../src/sandbox/world/accounts.ts';
import { AddOrderDocument, BalanceDocument, OrderDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY, RESELLER_KEY } from '../support/keys.ts';
import { wsClient } from '../support/subscribe.ts';

/** A raw GraphQL POST, for documents the typed ones cannot express. */
async function post(h: Harness, body: unknown, key: string | null = DEMO_KEY) {
  const response = await fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> },
  };
}

const ids = (count: number, from: number) => Array.from({ length: count }, (_, i) => String(from + i));

/** `aliases` aliases of orders(ids:), each with its own list of `per` ids. */
function fanOut(aliases: number, per: number) {
  const variables = Object.fromEntries(Array.from({ length: aliases }, (_, i) => [`v${i}`, ids(per, 200_000 + i * per)]));
  const names = Object.keys(variables);
  const query = `query(${names.map((name) => `$${name}: [ID!]!`).join(', ')}) { ${names.map((name, i) => `a${i}: orders(ids: $${name}) { id status }`).join(' ')} }`;
  return { query, variables };
}

describe('one request fanning out to thousands of supplier calls', () => {
  let h: Harness;
  beforeAll(async () => {
    // A supplier that reads one order per status call: ids fan out to one call each.
    h = await startHarness({ sandbox: { api: 'basic' } });
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.sandbox.clearFaults();
    h.sandbox.resetStats();
  });

  it('refuses 100 aliases of orders(ids:) with 100 ids each before any supplier call', async () => {
    const { status, body } = await post(h, fanOut(100, 100), 'made-up-key');
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      limit: 'MAX_UPSTREAM_CALLS_PER_OPERATION',
      max: 1000,
      calls: 10_000,
    });
    expect(h.calls()).toBe(0);
  });

  it("keeps another tenant's balance fast while one tenant floods the supplier within its budget", async () => {
    h.sandbox.setFaults({ latencyMs: 100, actions: ['status'] });
    const flood = Array.from({ length: 10 }, (_, n) =>
      post(h, { query: fanOut(1, 100).query, variables: { v0: ids(100, 300_000 + n * 100) } }),
    );
    await expect.poll(() => h.calls('status')).toBeGreaterThan(20);
    const started = performance.now();
    const other = await h.request(BalanceDocument, {}, { key: RESELLER_KEY });
    const waited = performance.now() - started;
    expect(other.errors).toBeUndefined();
    expect(waited).toBeLessThan(1000);
    await Promise.all(flood);
  });

  it('does not multiply a 429 flood with retries', async () => {
    h.sandbox.setFaults({ tooManyRequestsRate: 1, actions: ['status'] });
    const { body } = await post(h, fanOut(10, 100), RESELLER_KEY);
    expect(body.errors?.every((error) => error.extensions?.code === 'RATE_LIMITED')).toBe(true);
    expect(body.errors?.[0]?.extensions?.retryAfterSeconds).toBe(1);
    expect(h.calls('status')).toBeLessThanOrEqual(32);
  });
});

describe('made-up keys', () => {
  let h: Harness;
  beforeAll(async () => {
    // The per-address limit would stop these attempts first; here the key memory alone is tried.
    h = await startHarness({ config: { authFailuresPerMinute: 100_000 } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.resetStats());

  it('costs one supplier call for a wide query with a made-up key', async () => {
    const wide =
      '{ balance { amount } categories { name } services(first: 1) { totalCount } smsCountries { code } smsProjects { id } order(id: "1") { id } smsOrder(id: "1") { id } }';
    const { body } = await post(h, { query: wide }, 'made-up-wide-key');
    expect(body.errors?.map((error) => error.extensions?.code)).toContain('UNAUTHENTICATED');
    expect(h.calls()).toBe(1);
  });

  it('remembers a rejected key on HTTP: the same bad key 1,000 times costs one call', async () => {
    for (let n = 0; n < 1000; n += 20) {
      await Promise.all(Array.from({ length: 20 }, () => post(h, { query: '{ balance { amount } }' }, 'same-bad-key')));
    }
    expect(h.calls()).toBe(1);
  });

  it('remembers a rejected key passed per operation on a keyless WebSocket', async () => {
    const client = wsClient(h.url, {});
    for (let n = 0; n < 20; n += 1) {
      const outcome = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: print(OrderDocument), variables: { id: '1' }, extensions: { headers: { Authorization: 'Bearer ws-bad-key' } } },
          { next: resolve, error: resolve, complete: () => {} },
        );
      });
      expect(JSON.stringify(outcome)).toContain('UNAUTHENTICATED');
    }
    await client.dispose();
    expect(h.calls()).toBe(1);
  });
});

describe('an address guessing keys', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('stops an address that keeps failing credentials, and still serves keys the supplier answered from it', async () => {
    expect((await h.request(BalanceDocument)).errors).toBeUndefined();
    h.sandbox.resetStats();
    const answers = [];
    for (let n = 0; n < 60; n += 1) answers.push(await post(h, { query: '{ balance { amount } }' }, `guess-${n}`));
    expect(h.calls()).toBeLessThanOrEqual(30);
    const refused = answers.at(-1)!;
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'AUTH_FAILURES' });
    expect(refused.body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect((await h.request(BalanceDocument)).errors).toBeUndefined();
  });
});

describe('long filter strings', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { cacheMaxBytes: 64 * 1024 } });
  });
  afterAll(() => h.close());
  beforeEach(() => h.sandbox.resetStats());

  it('refuses a 60 KB category before any call or cache entry', async () => {
    const before = h.gateway.runtime.cache.size;
    for (let n = 0; n < 100; n += 1) {
      const category = `${n}-${'x'.repeat(60_000)}`;
      const response = await h.request(ServicesPageDocument, { first: 1, category });
      expect(codes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message.length).toBeLessThan(100);
    }
    expect(h.calls()).toBe(0);
    expect(h.gateway.runtime.cache.size).toBe(before);
  });

  it('counts cache keys toward CACHE_MAX_BYTES', async () => {
    for (let n = 0; n < 600; n += 1) await h.request(ServicesPageDocument, { first: 1, category: `${n}-${'y'.repeat(120)}` });
    // 600 keys of about 200 bytes, with small values, do not fit in 64 KiB.
    expect(h.gateway.runtime.cache.size).toBeLessThan(400);
  });
});

describe('slow clients', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { httpHeadersTimeoutMs: 500, httpRequestTimeoutMs: 1000 } });
  });
  afterAll(() => h.close());

  /** Opens a socket, writes `head`, then nothing; resolves with what came back and when the socket closed. */
  function linger(head: string) {
    const { port } = new URL(h.url);
    const socket = connect(Number(port), '127.0.0.1');
    const started = performance.now();
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('connect', () => socket.write(head));
    return new Promise<{ answer: string; ms: number }>((resolve) =>
      socket.on('close', () => resolve({ answer, ms: performance.now() - started })),
    );
  }

  it('closes a socket whose headers never end within the headers timeout', async () => {
    const { ms } = await linger('POST /graphql HTTP/1.1\r\nHost: gateway\r\nX-Slow: ');
    expect(ms).toBeLessThan(3000);
  });

  it('answers 408 to a body that never ends within the request timeout', async () => {
    const { answer, ms } = await linger(
      'POST /graphql HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeLessThan(3500);
  });
});

describe('limit errors and echoes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('names the limit an operation breaks, with a code', async () => {
    const costly = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: services(first: 500) { edges { node { id name type category rate min max refill cancel stock } } }`).join(' ')} }`;
    const { body } = await post(h, { query: costly });
    expect(body.errors?.[0]?.message).toMatch(/^Query Cost limit of 50000 exceeded/);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'cost', max: 50_000 });
  });

  it('serves services(first: 500) with every field, as documented', async () => {
    const everything =
      '{ services(first: 500) { totalCount edges { cursor node { id name type category rate min max refill cancel stock entityType autoDelivery } } pageInfo { hasNextPage endCursor } } }';
    const { body } = await post(h, { query: everything });
    expect(body.errors).toBeUndefined();
  });

  it('echoes a short prefix of a 90 KB bad id, not the id', async () => {
    const id = `${'z'.repeat(90_000)}!`;
    const response = await h.request(OrderDocument, { id });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(JSON.stringify(response).length).toBeLessThan(1000);
  });

  it("answers an invalid JSON body with a generic message, not the parser's", async () => {
    const { body } = await post(h, '{"query": "{ balance { amount } }", oops');
    expect(body.errors).toEqual([{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }]);
  });
});

describe('concurrent orders against one balance', () => {
  const BUDGET_KEY = 'sandbox-budget-key';
  let h: Harness;
  let service: { id: string; min: number; rate: string };
  beforeAll(async () => {
    // The catalogue is the same for one seed: read the price first, then give the key 14.5 orders' worth.
    const probe = await startHarness();
    service = (await probe.request(ServicesPageDocument, { first: 1, category: 'Instagram' })).data!.services.edges[0]!.node;
    await probe.close();
    const estimate = new Big(service.rate).times(service.min).div(1000);
    h = await startHarness({ sandbox: { keys: [...DEFAULT_KEYS, { key: BUDGET_KEY, balance: estimate.times(14.5).toFixed(4) }] } });
  });
  afterAll(() => h.close());

  it('lets through only the orders the balance covers: 14 of 50, the others refused before the supplier', async () => {
    h.sandbox.setFaults({ latencyMs: 50, actions: ['add'] });
    const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/race' };
    const answers = await Promise.all(Array.from({ length: 50 }, () => h.request(AddOrderDocument, { input }, { key: BUDGET_KEY })));
    expect(answers.filter((answer) => answer.data?.addOrder.id)).toHaveLength(14);
    const refused = answers.filter((answer) => answer.errors);
    expect(refused).toHaveLength(36);
    for (const answer of refused) {
      expect(answer.errors![0]!.extensions).toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
      expect(answer.errors![0]!.extensions!.upstreamMessage).toBeUndefined();
    }
    expect(h.calls('add')).toBe(14);
  });
});

describe('a request rate per tenant', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { rateLimit: { perSecond: 1, burst: 5 } } });
  });
  afterAll(() => h.close());

  it("refuses a tenant's requests past its burst with 429 and a retry hint, and not another tenant's", async () => {
    const answers = [];
    for (let n = 0; n < 6; n += 1) answers.push(await post(h, { query: '{ __typename }' }, DEMO_KEY));
    expect(answers.slice(0, 5).map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers[5]!.status).toBe(429);
    expect(answers[5]!.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', reason: 'TENANT_RATE', retryAfterSeconds: 1 });
    expect((await post(h, { query: '{ __typename }' }, RESELLER_KEY)).status).toBe(200);
  });
});

describe('a circuit breaker for the supplier', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: {
        upstreamGuard: { concurrencyPerKey: 16, queuePerKey: 64, circuitFailures: 3, circuitHalfOpenMs: 300 },
        cacheTtlSeconds: { categories: 300, services: 0, inventory: 5, smsCountries: 600, smsProjects: 300 },
      },
    });
  });
  afterAll(() => h.close());

  it('opens the circuit after repeated failures: calls fail fast, the catalogue is served stale, a probe closes it', async () => {
    const fresh = await h.request(ServicesPageDocument, { first: 2 }, { key: RESELLER_KEY });
    h.sandbox.setFaults({ serverErrorRate: 1 });
    for (let n = 0; n < 3; n += 1)
      expect(codes(await h.request(BalanceDocument, {}, { key: RESELLER_KEY }))).toEqual(['UPSTREAM_UNAVAILABLE']);
    h.sandbox.resetStats();
    const fast = await h.request(BalanceDocument, {}, { key: RESELLER_KEY });
    expect(fast.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', reason: 'CIRCUIT_OPEN' });
    const stale = await h.request(ServicesPageDocument, { first: 2 }, { key: RESELLER_KEY });
    expect(stale.data).toEqual(fresh.data);
    expect(stale.extensions).toMatchObject({ stale: { catalogue: true } });
    expect(h.calls()).toBe(0);
    expect(h.gateway.runtime.client.guard.circuitOpen).toBe(true);

    h.sandbox.clearFaults();
    await expect.poll(async () => (await h.request(BalanceDocument, {}, { key: RESELLER_KEY })).errors, { interval: 100 }).toBeUndefined();
    expect(h.gateway.runtime.client.guard.circuitOpen).toBe(false);
  });
});
