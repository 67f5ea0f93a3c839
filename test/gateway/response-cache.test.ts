/**
 * Whole answers to catalogue queries kept and served before the GraphQL pipeline, with ETag and
 * 304; never an answer a caller must not share, never one tenant's answer to another.
 */
import { connect } from 'node:net';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddOrderDocument, BalanceDocument, OrderDocument, ServiceInventoryDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { captureLogs, codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY, EMPTY_KEY, RESELLER_KEY } from '../support/keys.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';

const page = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 3, category: 'Instagram' } });

const post = (h: Harness, body: string, key: string, headers: Record<string, string> = {}) =>
  fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body });

describe('response cache', () => {
  let h: Harness;
  const { lines, logger } = captureLogs();
  beforeAll(async () => {
    h = await startHarness({ logger });
  });
  afterAll(() => h.close());

  it('answers a repeated catalogue read from its cached answer, with an ETag, and 304 to a client that has it', async () => {
    const first = await post(h, page, DEMO_KEY);
    const body = await first.text();
    const second = await post(h, page, DEMO_KEY);
    const etag = second.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(await second.text()).toBe(body);
    const revalidated = await post(h, page, DEMO_KEY, { 'if-none-match': etag! });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
  });

  it('sends a cached answer to a GET straight from the HTTP server, the same text and ETag as through GraphQL', async () => {
    const url = `${h.url}?${new URLSearchParams({ query: print(ServicesPageDocument), variables: JSON.stringify({ first: 2, category: 'TikTok' }) })}`;
    const get = (headers: Record<string, string> = {}) => fetch(url, { headers: { authorization: `Bearer ${DEMO_KEY}`, ...headers } });
    const body = await (await get()).text();
    const kept = await get({ 'x-request-id': 'kept-1' });
    expect(await kept.text()).toBe(body);
    expect(kept.headers.get('etag')).toBeTruthy();
    expect(kept.headers.get('x-request-id')).toBe('kept-1');
    expect(kept.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await get({ 'if-none-match': kept.headers.get('etag')! })).status).toBe(304);
    // The same document through GraphQL's own path gives the same ETag: one cache, one key.
    const viaYoga = await fetch(url, { headers: { authorization: `Bearer ${DEMO_KEY}`, origin: 'https://shop.example' } });
    expect(viaYoga.headers.get('etag')).toBe(kept.headers.get('etag'));
    expect(await viaYoga.text()).toBe(body);
    // Another tenant's GET of the same document is its own answer, never this one.
    const other = await fetch(url, { headers: { authorization: `Bearer ${RESELLER_KEY}` } });
    expect(other.headers.get('etag')).not.toBe(kept.headers.get('etag'));
    // Sent by the HTTP server itself: its access line says so.
    expect(lines.filter((line) => line.msg === 'request' && line.cachePath === 'http').map((line) => line.requestId)).toContain('kept-1');
  });

  it('sends a cached answer to a small JSON POST straight from the HTTP server too; a miss it read goes on to GraphQL intact', async () => {
    const body = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 2, category: 'YouTube' } });
    h.sandbox.resetStats();
    const fresh = await post(h, body, DEMO_KEY, { 'x-request-id': 'post-miss' });
    const text = await fresh.text();
    expect(JSON.parse(text).data.services.edges).toHaveLength(2);
    const kept = await post(h, body, DEMO_KEY, { 'x-request-id': 'post-kept', accept: 'application/graphql-response+json' });
    expect(await kept.text()).toBe(text);
    expect(kept.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(kept.headers.get('etag')).toBe(fresh.headers.get('etag'));
    expect((await post(h, body, DEMO_KEY, { 'if-none-match': kept.headers.get('etag')! })).status).toBe(304);
    expect(h.calls('services')).toBe(1);
    const keptLines = lines.filter((line) => line.msg === 'request' && line.cachePath === 'http').map((line) => line.requestId);
    expect(keptLines).toContain('post-kept');
    expect(keptLines).not.toContain('post-miss');
    // A browser page's POST (it needs CORS), an SSE request and an invalid body are GraphQL's.
    const browser = await post(h, body, DEMO_KEY, { origin: 'https://shop.example', 'x-request-id': 'post-browser' });
    expect(browser.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(await browser.text()).toBe(text);
    const stream = await post(h, body, DEMO_KEY, { accept: 'text/event-stream' });
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await stream.text()).toContain('event: next');
    const invalid = await post(h, '{"query": ', DEMO_KEY);
    expect(await invalid.text()).toContain('POST body sent invalid JSON.');
    expect(lines.filter((line) => line.msg === 'request' && line.cachePath === 'http').map((line) => line.requestId)).not.toContain(
      'post-browser',
    );
  });

  it('survives a client that stops in the middle of a small JSON body, and one that sends a type that is not JSON', async () => {
    const { port } = new URL(h.url);
    for (let n = 0; n < 3; n++) {
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${DEMO_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
    }
    // Still serving, cached answers included.
    expect((await post(h, page, DEMO_KEY)).status).toBe(200);
    // A body that only says "json" in a parameter is GraphQL's to refuse, not the cache's to answer.
    const odd = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; x=json', authorization: `Bearer ${DEMO_KEY}` },
      body: page,
    });
    expect(odd.headers.get('etag')).toBeNull();
    expect(odd.status).not.toBe(200);
    // Parameters GraphQL would refuse are not answered from the cache either.
    const { query, variables } = JSON.parse(page) as { query: string; variables: unknown };
    const badName = await post(h, JSON.stringify({ query, variables, operationName: 5 }), DEMO_KEY);
    expect(badName.headers.get('etag')).toBeNull();
  });

  it('leaves to GraphQL a GET without credentials or the headers that prove it is not a cross-site request', async () => {
    const url = `${h.url}?${new URLSearchParams({ query: '{ __typename }' })}`;
    expect((await fetch(url)).status).toBe(403);
  });

  it("keeps each tenant's answers apart", async () => {
    const demo = (await (await post(h, page, DEMO_KEY)).json()) as { data: { services: { edges: Array<{ node: { rate: string } }> } } };
    const reseller = (await (await post(h, page, RESELLER_KEY)).json()) as typeof demo;
    expect(reseller.data.services.edges[0]!.node.rate).not.toBe(demo.data.services.edges[0]!.node.rate);
  });

  it('never keeps an answer that reads no data: `{ __typename }` goes through GraphQL every time', async () => {
    const probe = JSON.stringify({ query: '{ __typename }' });
    await post(h, probe, DEMO_KEY);
    const again = await post(h, probe, DEMO_KEY);
    expect(again.headers.get('etag')).toBeNull();
    expect(await again.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('counts every result of the cache in /metrics and the access log, on both paths', async () => {
    const counts = async () => {
      const text = await (await fetch(new URL('/metrics', h.url))).text();
      const found: Record<string, number> = {};
      for (const [, path, result, value] of text.matchAll(/^hstock_response_cache_total\{path="(\w+)",result="(\w+)"\} (\d+)$/gm))
        found[`${path} ${result}`] = Number(value);
      return found;
    };
    const before = await counts();
    const body = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 4, category: 'YouTube' } });
    const browser = { origin: 'https://shop.example', 'x-request-id': 'from-a-page' };
    const etag = (await post(h, body, DEMO_KEY)).headers.get('etag')!;
    for (let n = 0; n < 4; n += 1) await post(h, body, DEMO_KEY);
    for (let n = 0; n < 3; n += 1) await post(h, body, DEMO_KEY, browser);
    expect((await post(h, body, DEMO_KEY, { 'if-none-match': etag })).status).toBe(304);
    expect((await post(h, body, DEMO_KEY, { ...browser, 'if-none-match': etag })).status).toBe(304);
    await post(h, JSON.stringify({ query: print(BalanceDocument) }), DEMO_KEY);
    await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1' }, body });

    const after = await counts();
    const added = Object.fromEntries(
      Object.entries(after)
        .map(([name, value]) => [name, value - (before[name] ?? 0)])
        .filter(([, value]) => value !== 0),
    );
    expect(added).toEqual({
      'graphql miss': 1,
      'http hit': 4,
      'graphql hit': 3,
      'http not_modified': 1,
      'graphql not_modified': 1,
      'graphql not_stored': 1,
      'graphql bypass': 1,
    });
    // A browser page's request is logged like any other: its type, tenant and what the cache did.
    const fromPage = lines.filter((line) => line.requestId === 'from-a-page');
    expect(fromPage).toHaveLength(4);
    for (const line of fromPage)
      expect(line).toMatchObject({ type: 'query', tenant: expect.stringMatching(/^[\w-]{8}$/), cachePath: 'graphql' });
    expect(fromPage.map((line) => line.cache)).toEqual(['hit', 'hit', 'hit', 'not_modified']);
  });

  it('never keeps the balance', async () => {
    const before = (await h.request(BalanceDocument)).data!.balance.amount;
    await h.placeOrder();
    expect((await h.request(BalanceDocument)).data!.balance.amount).not.toBe(before);
  });
});

describe('response cache in server-key mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { serverKey: DEMO_KEY, gatewayTokens: ['alice:a-1', 'bob:b-2'] } });
  });
  afterAll(() => h.close());

  it("never serves one caller's order to another, even for the same document", async () => {
    const id = await h.placeOrder({ key: 'a-1' });
    expect((await h.request(OrderDocument, { id }, { key: 'a-1' })).data!.order).toMatchObject({ id });
    expect((await h.request(OrderDocument, { id }, { key: 'a-1' })).data!.order).toMatchObject({ id });
    expect(codes(await h.request(OrderDocument, { id }, { key: 'b-2' }))).toEqual(['NOT_FOUND']);
  });
});

describe('response cache bounds', () => {
  let h: Harness;
  // An answer counts twice its JSON text (the text sent and the data it was made from).
  const limit = { maxBytes: 256 * 1024, maxAnswerBytes: 16 * 1024 };
  beforeAll(async () => {
    h = await startHarness({ config: { responseCache: limit } });
  });
  afterAll(() => h.close());

  const evictions = async (reason: string) => {
    const text = await (await fetch(new URL('/metrics', h.url))).text();
    return Number(new RegExp(`^hstock_response_cache_evictions_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };

  it('keeps one answer for a document whatever undeclared variables come with it', async () => {
    const query = print(ServicesPageDocument);
    const etags = [];
    for (let n = 0; n < 5; n += 1) {
      const response = await post(h, JSON.stringify({ query, variables: { first: 2, category: 'Telegram', unused: n } }), DEMO_KEY);
      etags.push(response.headers.get('etag'));
    }
    expect(new Set(etags).size).toBe(1);
    // A declared variable still tells answers apart.
    const other = await post(h, JSON.stringify({ query, variables: { first: 3, category: 'Telegram' } }), DEMO_KEY);
    expect(other.headers.get('etag')).not.toBe(etags[0]);
  });

  it('never keeps an answer above RESPONSE_CACHE_MAX_ANSWER_BYTES', async () => {
    const query = `{ ${Array.from({ length: 100 }, (_, n) => `a${n}: smsProjects { id name countryCode countryName }`).join(' ')} }`;
    const tooLarge = await evictions('too_large');
    const first = await post(h, JSON.stringify({ query }), DEMO_KEY);
    const size = (await first.text()).length;
    expect(2 * size).toBeGreaterThan(limit.maxAnswerBytes);
    expect(await evictions('too_large')).toBe(tooLarge + 1);
    const again = await post(h, JSON.stringify({ query }), DEMO_KEY, { origin: 'https://shop.example' });
    await again.text();
    expect(await evictions('too_large')).toBe(tooLarge + 2);
  });

  it('holds at most RESPONSE_CACHE_MAX_BYTES, the least recently used answers going first, counted in /metrics', async () => {
    const query = print(ServicesPageDocument);
    for (let first = 1; first <= 60; first += 1) await (await post(h, JSON.stringify({ query, variables: { first } }), DEMO_KEY)).text();
    const metrics = await (await fetch(new URL('/metrics', h.url))).text();
    const bytes = Number(/^hstock_response_cache_bytes (\d+)$/m.exec(metrics)?.[1]);
    expect(bytes).toBeGreaterThan(limit.maxBytes / 2);
    expect(bytes).toBeLessThanOrEqual(limit.maxBytes);
    expect(await evictions('space')).toBeGreaterThan(0);
  });
});

describe('response cache revalidation and HTTP caches', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { rateLimit: { perSecond: 0.001, burst: 8 } } });
  });
  afterAll(() => h.close());

  const browser = { origin: 'https://shop.example' };

  it('answers 304 only to the caller whose entry the ETag names, never to another tenant or a made-up key', async () => {
    const body = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 2, category: 'Facebook' } });
    await post(h, body, DEMO_KEY);
    const etag = (await post(h, body, DEMO_KEY)).headers.get('etag')!;
    expect((await post(h, body, DEMO_KEY, { ...browser, 'if-none-match': etag })).status).toBe(304);
    const other = await post(h, body, RESELLER_KEY, { ...browser, 'if-none-match': etag });
    expect(other.status).toBe(200);
    expect(((await other.json()) as { data?: unknown }).data).toBeDefined();
    const madeUp = await post(h, body, 'made-up-key', { ...browser, 'if-none-match': etag });
    expect(madeUp.status).not.toBe(304);
  });

  it('counts a 304 against the tenant rate like any other answer', async () => {
    const body = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 2, category: 'Twitter' } });
    const etag = (await post(h, body, EMPTY_KEY)).headers.get('etag')!;
    const statuses = [];
    for (let n = 0; n < 10; n += 1) statuses.push((await post(h, body, EMPTY_KEY, { ...browser, 'if-none-match': etag })).status);
    expect(statuses.slice(0, 7)).toEqual(Array(7).fill(304));
    expect(statuses.slice(7)).toEqual(Array(3).fill(429));
  });

  it('marks every answer private to its credentials, on both paths, so no shared cache gives it to another caller', async () => {
    const url = `${h.url}?${new URLSearchParams({ query: print(ServicesPageDocument), variables: JSON.stringify({ first: 1, category: 'Spotify' }) })}`;
    const get = (headers: Record<string, string> = {}) => fetch(url, { headers: { authorization: `Bearer ${RESELLER_KEY}`, ...headers } });
    for (const response of [await get(), await get(), await get(browser)]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('private, no-cache');
      expect(response.headers.get('vary')).toMatch(/Authorization, X-Api-Key/);
      await response.text();
    }
  });
});

describe.skipIf(!redisPresent)('response cache across instances', () => {
  let redis: RedisServer;
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    redis = await startRedis();
    // A stock figure lives a minute here, so only an invalidation can make it change sooner.
    const config = {
      redisUrl: redis.url,
      cacheTtlSeconds: { categories: 300, services: 300, inventory: 60, smsCountries: 600, smsProjects: 300 },
    };
    a = await startHarness({ config });
    b = await startHarness({ config, upstream: a.sandbox });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await redis?.close();
  });

  it("drops another instance's cached answers showing a product's stock when an order changes it", async () => {
    // Both instances listen before anything is published (they subscribe as they start).
    const listeners = async () =>
      ((await (await redis.command('PUBSUB', 'NUMSUB', 'hstock:response-cache:invalidated')).reply) as unknown[])[1];
    await expect.poll(listeners).toBe(2);
    const { data } = await a.request(ServicesPageDocument, { first: 500 });
    const product = data!.services.edges
      .map((edge) => edge.node)
      .find((service) => service.entityType === 'PRODUCT' && (service.stock ?? 0) > 1)!;
    const stock = async () => (await b.request(ServiceInventoryDocument, { id: product.id })).data!.service!.inventory!.stock;
    const before = await stock();
    expect(await stock()).toBe(before); // kept by b
    const placed = await a.request(AddOrderDocument, { input: { serviceId: product.id, quantity: product.min } });
    expect(placed.errors).toBeUndefined();
    await expect.poll(stock).toBe(before - product.min);
  });
});
