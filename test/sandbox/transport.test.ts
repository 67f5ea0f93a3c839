import { describe, expect, it } from 'vitest';
import { DEMO_KEY } from '../support/keys.ts';
import { call, form, startSandbox } from '../support/sandbox.ts';

describe('the wire format', () => {
  it('answers a form-encoded POST with JSON and HTTP 200', async () => {
    const sandbox = await startSandbox();
    const response = await fetch(sandbox.url, { method: 'POST', body: form({ key: DEMO_KEY, action: 'balance' }) });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ balance: '1000.00', currency: 'USD' });
  });

  it('reads a JSON body, with numbers as well as strings', async () => {
    const sandbox = await startSandbox();
    const response = await fetch(sandbox.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: DEMO_KEY, action: 'services', limit: 2 }),
    });
    expect(await response.json()).toMatchObject({ limit: 2, page: 1 });
  });

  it('reads fields from the query string of a POST and of a GET', async () => {
    const sandbox = await startSandbox();
    const query = `?${form({ key: DEMO_KEY, action: 'balance' })}`;
    expect(await (await fetch(sandbox.url + query, { method: 'POST' })).json()).toMatchObject({ balance: '1000.00' });
    expect(await (await fetch(sandbox.url + query)).json()).toMatchObject({ balance: '1000.00' });
  });

  it('reads multipart form data, as curl -F sends it', async () => {
    const sandbox = await startSandbox();
    const body = new FormData();
    body.set('key', DEMO_KEY);
    body.set('action', 'balance');
    expect(await (await fetch(sandbox.url, { method: 'POST', body })).json()).toMatchObject({ currency: 'USD' });
  });

  it('lets body fields win over query-string fields', async () => {
    const sandbox = await startSandbox();
    const response = await fetch(`${sandbox.url}?action=categories`, {
      method: 'POST',
      body: form({ key: DEMO_KEY, action: 'balance' }),
    });
    expect(await response.json()).toMatchObject({ balance: '1000.00' });
  });

  it('treats an unreadable JSON body as no fields at all', async () => {
    const sandbox = await startSandbox();
    const response = await fetch(sandbox.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"key": "${DEMO_KEY}",`,
    });
    expect(await response.json()).toEqual({ error: 'Invalid API key' });
  });

  it('answers errors as {"error"} with HTTP 200, as the real panel does', async () => {
    const sandbox = await startSandbox();
    const response = await fetch(sandbox.url, { method: 'POST', body: form({ key: 'nope', action: 'balance' }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ error: 'Invalid API key' });
  });

  it('checks the key before the action', async () => {
    const sandbox = await startSandbox();
    expect(await call(sandbox, { key: 'nope', action: 'nope' })).toEqual({ error: 'Invalid API key' });
    expect(await call(sandbox, { action: 'balance' })).toEqual({ error: 'Invalid API key' });
    expect(await call(sandbox, { key: DEMO_KEY })).toEqual({ error: 'Invalid action' });
    expect(await call(sandbox, { key: DEMO_KEY, action: 'nope' })).toEqual({ error: 'Invalid action' });
  });

  it('knows only the actions on the supplier page and the family, nothing inherited', async () => {
    const sandbox = await startSandbox();
    for (const action of ['toString', '__proto__', 'constructor']) {
      expect(await call(sandbox, { key: DEMO_KEY, action })).toEqual({ error: 'Invalid action' });
    }
  });

  it('answers an unknown path with 404 JSON', async () => {
    const sandbox = await startSandbox();
    const response = await fetch(`${sandbox.origin}/api/v1`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'Not found' });
  });

  it('answers other methods than GET and POST with 405', async () => {
    const sandbox = await startSandbox();
    const response = await fetch(`${sandbox.url}?${form({ key: DEMO_KEY, action: 'balance' })}`, { method: 'PUT' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST');
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const sandbox = await startSandbox();
    const response = await fetch(sandbox.url, {
      method: 'POST',
      body: form({ key: DEMO_KEY, action: 'balance', padding: 'x'.repeat(70 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'Request body too large' });
  });
});
