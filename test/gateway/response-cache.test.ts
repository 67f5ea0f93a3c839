/**
 * Whole answers to catalogue queries kept and served before the GraphQL pipeline, with ETag and
 * 304; never an answer a caller must not share, never one tenant's answer to another.
 */
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BalanceDocument, OrderDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { createLogger } from '../../src/logger.ts';
import { DEMO_KEY, type Harness, RESELLER_KEY, codes, startHarness } from '../harness.ts';

const page = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 3, category: 'Instagram' } });

const post = (h: Harness, body: string, key: string, headers: Record<string, string> = {}) =>
  fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers }, body });

describe('response cache', () => {
  let h: Harness;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    h = await startHarness({ logger: createLogger('info', stream) });
  });
  afterAll(() => h.close());

  it('answers a repeated catalogue read from its kept answer, with an ETag, and 304 to a client that has it', async () => {
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

  it('sends a kept answer to a GET straight from the HTTP server, the same text and ETag as through GraphQL', async () => {
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

  it('sends a kept answer to a small JSON POST straight from the HTTP server too; a miss it read goes on to GraphQL intact', async () => {
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
    expect(lines.filter((line) => line.msg === 'request' && line.cachePath === 'http').map((line) => line.requestId)).not.toContain('post-browser');
  });

  it('survives a client that stops in the middle of a small JSON body, and one that sends a type that is not JSON', async () => {
    const { port } = new URL(h.url);
    for (let n = 0; n < 3; n++) {
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${DEMO_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
    }
    // Still serving, kept answers included.
    expect((await post(h, page, DEMO_KEY)).status).toBe(200);
    // A body that only says "json" in a parameter is GraphQL's to refuse, not the cache's to answer.
    const odd = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'text/plain; x=json', authorization: `Bearer ${DEMO_KEY}` }, body: page });
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

  it('counts every result of the cache in /metrics and the access log, on both paths (an operator saw 0 % hits)', async () => {
    const counts = async () => {
      const text = await (await fetch(new URL('/metrics', h.url))).text();
      const found: Record<string, number> = {};
      for (const [, path, result, value] of text.matchAll(/^hstock_response_cache_total\{path="(\w+)",result="(\w+)"\} (\d+)$/gm)) found[`${path} ${result}`] = Number(value);
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
    const added = Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? 0)]).filter(([, value]) => value !== 0));
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
    for (const line of fromPage) expect(line).toMatchObject({ type: 'query', tenant: expect.stringMatching(/^[\w-]{8}$/), cachePath: 'graphql' });
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
