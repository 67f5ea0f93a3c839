import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { BalanceDocument } from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';

describe('pass-through mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('refuses a request without a key before any upstream call', async () => {
    h.sandbox.resetStats();
    const response = await h.request(BalanceDocument, {}, { key: null });
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(h.calls()).toBe(0);
  });

  it('takes the key from X-Api-Key as well as Authorization', async () => {
    const response = await h.request(BalanceDocument, {}, { key: null, headers: { 'x-api-key': DEMO_KEY } });
    expect(response.data!.balance.amount).toBe('1000.00');
  });

  it('maps a key the supplier rejects to UNAUTHENTICATED without echoing it', async () => {
    const response = await h.request(BalanceDocument, {}, { key: 'sk-live-secret-123' });
    expect(codes(response)).toEqual(['UNAUTHENTICATED']);
    expect(JSON.stringify(response)).not.toContain('sk-live-secret-123');
  });

  it('refuses a cross-site "simple" request (CSRF)', async () => {
    const form = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7Bbalance%7Bamount%7D%7D',
    });
    expect(form.status).toBe(403);
    const get = await fetch(`${h.url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.status).toBe(403);
  });

  it('answers a body over the size limit with 413', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify({ query: `{ __typename }`, padding: 'x'.repeat(200_000) }),
    });
    expect(response.status).toBe(413);
  });

  it('turns away a too deep or too costly operation', async () => {
    const depth = `{ categories { subcategories { category { subcategories { category { subcategories { category { subcategories { category { subcategories { category { subcategories { name } } } } } } } } } } } } }`;
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify({ query: depth }),
    });
    const body = (await response.json()) as { errors?: Array<{ message: string }> };
    expect(body.errors?.[0]?.message).toMatch(/depth/i);
  });
});

describe('server-key mode', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { serverKey: DEMO_KEY, gatewayTokens: ['frontend-token', 'ops-token'] } });
  });
  afterAll(() => h.close());

  it('spends the server key for a caller with a gateway token', async () => {
    const response = await h.request(BalanceDocument, {}, { key: 'ops-token' });
    expect(response.data!.balance.amount).toBe('1000.00');
  });

  it('refuses an unknown token and a missing one', async () => {
    h.sandbox.resetStats();
    expect(codes(await h.request(BalanceDocument, {}, { key: DEMO_KEY }))).toEqual(['UNAUTHENTICATED']);
    expect(codes(await h.request(BalanceDocument, {}, { key: null }))).toEqual(['UNAUTHENTICATED']);
    expect(h.calls()).toBe(0);
  });

  it('refuses to start without tokens unless anonymous access is asked for', () => {
    expect(() => loadConfig({ HSTOCK_API_KEY: 'k' })).toThrow(/GATEWAY_TOKENS/);
    expect(loadConfig({ HSTOCK_API_KEY: 'k', GATEWAY_ALLOW_ANONYMOUS: 'true' }).allowAnonymous).toBe(true);
  });
});

describe('server-key mode with anonymous access', () => {
  it('serves callers without a token', async () => {
    const h = await startHarness({ config: { serverKey: DEMO_KEY, allowAnonymous: true } });
    try {
      expect((await h.request(BalanceDocument, {}, { key: null })).data!.balance.amount).toBe('1000.00');
    } finally {
      await h.close();
    }
  });

  it('refuses an X-Api-Key, which it would otherwise ignore, and says what to send instead', async () => {
    const h = await startHarness({ config: { serverKey: DEMO_KEY, allowAnonymous: true } });
    try {
      h.sandbox.resetStats();
      const response = await h.request(BalanceDocument, {}, { key: null, headers: { 'x-api-key': 'my-supplier-key' } });
      expect(codes(response)).toEqual(['UNAUTHENTICATED']);
      expect(response.errors![0]!.message).toMatch(/takes no X-Api-Key: send a gateway token .* or no credentials at all/);
      expect(JSON.stringify(response)).not.toContain('my-supplier-key');
      expect(h.calls()).toBe(0);
    } finally {
      await h.close();
    }
  });
});
