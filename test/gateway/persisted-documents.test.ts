/**
 * Persisted documents: the manifest GraphQL Code Generator's client preset writes
 * (test/generated/persisted-documents.json), sent by id over POST, GET and WebSocket; a kept
 * catalogue answer to a GET by id sent by the HTTP server itself; trusted documents only.
 */
import { join } from 'node:path';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { loadPersistedDocuments } from '../../src/graphql/persisted-documents.ts';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { BalanceDocument, OrderStatusDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { captureLogs, codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { wsClient } from '../support/subscribe.ts';

const MANIFEST = join(import.meta.dirname, '../generated/persisted-documents.json');
const documents = loadPersistedDocuments([MANIFEST]);
const hashOf = (document: object) => (document as { __meta__?: { hash: string } }).__meta__!.hash;

const send = (h: Harness, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(h.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}`, ...headers },
    body: JSON.stringify(body),
  }).then(async (response) => ({
    response,
    body: (await response.json()) as {
      data?: Record<string, unknown>;
      errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
    },
  }));

describe('persisted documents', () => {
  let sandbox: Sandbox;
  let h: Harness;
  let only: Harness;
  const { lines, logger } = captureLogs();

  beforeAll(async () => {
    sandbox = await createSandbox({ port: 0 });
    h = await startHarness({ upstream: sandbox, config: { persistedDocuments: documents }, logger });
    only = await startHarness({ upstream: sandbox, config: { persistedDocuments: documents, persistedDocumentsOnly: true } });
  });
  afterAll(async () => {
    await h?.close();
    await only?.close();
    await sandbox?.close();
  });

  it('checks every hash of the manifest the client preset wrote, and refuses one that does not match its document', () => {
    expect(documents.size).toBeGreaterThan(10);
    expect(documents.get(hashOf(BalanceDocument).replace('sha256:', ''))).toBe('query Balance { balance { amount currency } }');
    const config = loadConfig({ PERSISTED_DOCUMENTS: MANIFEST });
    expect(config.persistedDocuments.size).toBe(documents.size);
    expect(() => loadConfig({ PERSISTED_DOCUMENTS: join(import.meta.dirname, '../../package.json') })).toThrow(
      /^PERSISTED_DOCUMENTS must name .*is not the SHA-256 or SHA-1 of its document/,
    );
    expect(() => loadConfig({ PERSISTED_DOCUMENTS: '/nonexistent.json' })).toThrow(/^PERSISTED_DOCUMENTS must name .*ENOENT/);
    expect(() => loadConfig({ PERSISTED_DOCUMENTS_ONLY: 'true' })).toThrow(
      /^PERSISTED_DOCUMENTS_ONLY must be false when PERSISTED_DOCUMENTS names no documents/,
    );
  });

  it('runs a document by its id over POST, as documentId (with or without its prefix) or as Apollo persisted query', async () => {
    const id = hashOf(BalanceDocument);
    for (const body of [
      { documentId: id },
      { documentId: id.replace('sha256:', '') },
      { extensions: { persistedQuery: { version: 1, sha256Hash: id.replace('sha256:', '') } } },
    ]) {
      const { body: answer } = await send(h, body);
      expect(answer).toEqual({ data: { balance: { amount: '1000.00', currency: 'USD' } } });
    }
    // Documents sent whole still run when the gateway does not ask for persisted documents only.
    expect((await send(h, { query: print(BalanceDocument) })).body.data).toBeDefined();
  });

  it('answers an unknown id with BAD_USER_INPUT before any supplier call', async () => {
    sandbox.resetStats();
    const { body } = await send(h, { documentId: `sha256:${'0'.repeat(64)}` });
    expect(body.errors?.[0]).toMatchObject({
      message: 'PersistedQueryNotFound',
      extensions: { code: 'BAD_USER_INPUT', reason: 'PERSISTED_DOCUMENT_NOT_FOUND' },
    });
    expect(sandbox.stats().requests).toEqual({});
  });

  it('serves a catalogue read by id as a GET, the second time straight from the HTTP server with the same ETag', async () => {
    const variables = JSON.stringify({ first: 2, category: 'Telegram' });
    const url = `${h.url}?${new URLSearchParams({ documentId: hashOf(ServicesPageDocument), variables })}`;
    const get = (requestId: string, headers: Record<string, string> = {}) =>
      fetch(url, { headers: { authorization: `Bearer ${DEMO_KEY}`, 'x-request-id': requestId, ...headers } });
    sandbox.resetStats();
    const first = await get('by-id-1');
    const text = await first.text();
    expect(JSON.parse(text).data.services.edges).toHaveLength(2);
    const kept = await get('by-id-2');
    expect(await kept.text()).toBe(text);
    expect(kept.headers.get('etag')).toBe(first.headers.get('etag'));
    expect((await get('by-id-3', { 'if-none-match': kept.headers.get('etag')! })).status).toBe(304);
    expect(sandbox.stats().requests.services).toBe(1);
    const keptIds = lines.filter((line) => line.msg === 'request' && line.cachePath === 'http').map((line) => line.requestId);
    expect(keptIds).toEqual(expect.arrayContaining(['by-id-2', 'by-id-3']));
    expect(keptIds).not.toContain('by-id-1');
    // The same text sent whole has the same cached answer: one key for the text, however it came.
    const manifestText = documents.get(hashOf(ServicesPageDocument).replace('sha256:', ''))!;
    const whole = await send(h, { query: manifestText, variables: JSON.parse(variables) });
    expect(whole.response.headers.get('etag')).toBe(first.headers.get('etag'));
  });

  it('runs persisted documents only when asked: a document sent whole is refused over HTTP and WebSocket, even one it has kept', async () => {
    const variables = { first: 1, category: 'Spotify' };
    const byId = await send(only, { documentId: hashOf(ServicesPageDocument), variables });
    expect(byId.body.errors).toBeUndefined();
    sandbox.resetStats();
    // The very text the id names, whose answer is now kept: still refused, never served kept.
    const whole = await send(only, { query: documents.get(hashOf(ServicesPageDocument).replace('sha256:', '')), variables });
    expect(whole.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', reason: 'PERSISTED_DOCUMENTS_ONLY' } });
    expect(codes(whole.body as never)).toEqual(['BAD_USER_INPUT']);
    expect(sandbox.stats().requests).toEqual({});

    const socket = wsClient(only.url, { apiKey: DEMO_KEY });
    try {
      const id = await only.placeOrder().catch(() => undefined);
      expect(id).toBeUndefined(); // placeOrder sends documents whole: refused here
      const refused = await new Promise<unknown>((resolve) => {
        socket.subscribe(
          { query: print(OrderStatusDocument), variables: { id: '100001' } },
          { next: resolve, error: resolve, complete: () => {} },
        );
      });
      expect(JSON.stringify(refused)).toContain('PERSISTED_DOCUMENTS_ONLY');
      const placed = await send(only, { documentId: hashOf(ServicesPageDocument), variables: { first: 1, category: 'Instagram' } });
      expect(placed.body.errors).toBeUndefined();
    } finally {
      await socket.dispose();
    }
  });

  it('runs a subscription by id over WebSocket', async () => {
    const id = await h.placeOrder();
    const socket = wsClient(h.url, { apiKey: DEMO_KEY });
    try {
      const first = await new Promise<unknown>((resolve) => {
        socket.subscribe(
          {
            query: '',
            variables: { id },
            extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(OrderStatusDocument).replace('sha256:', '') } },
          },
          { next: resolve, error: resolve, complete: () => {} },
        );
      });
      expect(first).toMatchObject({ data: { orderStatus: { id, status: 'PENDING' } } });
    } finally {
      await socket.dispose();
    }
  });
});
