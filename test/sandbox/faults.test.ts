import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { admin, balanceOf, call, findService, form, orderStatus, startSandbox } from '../support/sandbox.ts';

const post = (sandbox: Sandbox, fields: Record<string, string | number> = { key: DEMO_KEY, action: 'balance' }) =>
  fetch(sandbox.url, { method: 'POST', body: form(fields) });

const smmOrder = async (sandbox: Sandbox) => {
  const smm = await findService(sandbox, (service) => service.entityType === 'smm');
  return { key: DEMO_KEY, action: 'add', service: smm.service, quantity: smm.min, link: 'x' };
};

describe('fault injection', () => {
  it('delays answers by at least the injected latency', async () => {
    const sandbox = await startSandbox();
    sandbox.setFaults({ latencyMs: 120, latencyJitterMs: 30 });
    const started = performance.now();
    const response = await post(sandbox);
    expect(performance.now() - started).toBeGreaterThanOrEqual(120);
    expect(await response.json()).toMatchObject({ balance: '1000.00' });
  });

  it('answers 502 or 503 with an HTML page, before the action runs', async () => {
    const sandbox = await startSandbox();
    const order = await smmOrder(sandbox);
    sandbox.setFaults({ serverErrorRate: 1 });
    for (let attempt = 0; attempt < 4; attempt++) {
      const response = await post(sandbox, order);
      expect([502, 503]).toContain(response.status);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await response.text()).toMatch(/^<html>/);
    }
    sandbox.clearFaults();
    expect(await balanceOf(sandbox)).toBe('1000.00');
  });

  it('answers 429 with a retry-after header', async () => {
    const sandbox = await startSandbox();
    sandbox.setFaults({ tooManyRequestsRate: 1 });
    const response = await post(sandbox);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it('answers HTTP 200 with a body that is not JSON', async () => {
    const sandbox = await startSandbox();
    sandbox.setFaults({ malformedRate: 1 });
    const bodies = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const response = await post(sandbox, { key: DEMO_KEY, action: 'categories' });
        expect(response.status).toBe(200);
        return response.text();
      }),
    );
    for (const body of bodies) expect(() => JSON.parse(body) as unknown).toThrow();
    expect(bodies.some((body) => body.startsWith('{"categories":'))).toBe(true);
    expect(bodies.some((body) => body.startsWith('<html>'))).toBe(true);
  });

  it('drops the connection without an answer, after the action ran', async () => {
    const sandbox = await startSandbox();
    const order = await smmOrder(sandbox);
    sandbox.setFaults({ dropRate: 1 });
    await expect(post(sandbox, order)).rejects.toThrow();
    sandbox.clearFaults();
    expect(await balanceOf(sandbox)).not.toBe('1000.00');
    expect((await orderStatus(sandbox, 100001)).status).toBe('Pending');
  });

  it('answers an error with HTTP 200, with the default or a given message', async () => {
    const sandbox = await startSandbox();
    sandbox.setFaults({ error200Rate: 1 });
    const response = await post(sandbox);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ error: 'Service temporarily unavailable' });
    sandbox.setFaults({ error200Rate: 1, error200Message: 'Not enough funds' });
    expect(await call(sandbox, { key: DEMO_KEY, action: 'balance' })).toEqual({ error: 'Not enough funds' });
  });

  it('fails only the next N matching requests when count is given', async () => {
    const sandbox = await startSandbox();
    sandbox.setFaults({ serverErrorRate: 1, count: 2 });
    const statuses = [];
    for (let attempt = 0; attempt < 4; attempt++) statuses.push((await post(sandbox)).status);
    expect(statuses.map((status) => status >= 500)).toEqual([true, true, false, false]);
  });

  it('fails only the actions listed', async () => {
    const sandbox = await startSandbox();
    const order = await smmOrder(sandbox);
    sandbox.setFaults({ error200Rate: 1, actions: ['add'], count: 1 });
    expect(await call(sandbox, { key: DEMO_KEY, action: 'balance' })).toMatchObject({ balance: '1000.00' });
    expect(await call(sandbox, order)).toEqual({ error: 'Service temporarily unavailable' });
    expect(await call(sandbox, order)).toEqual({ order: 100001 });
  });

  it('fails about the share of requests given, the same way for the same seed', async () => {
    const failures = async () => {
      const sandbox = await startSandbox();
      sandbox.setFaults({ serverErrorRate: 0.5 });
      const statuses = [];
      for (let attempt = 0; attempt < 40; attempt++) statuses.push((await post(sandbox)).status);
      return statuses;
    };
    const first = await failures();
    const failed = first.filter((status) => status >= 500).length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
    expect(await failures()).toEqual(first);
  });

  it('counts faulted requests in the stats', async () => {
    const sandbox = await startSandbox();
    sandbox.setFaults({ tooManyRequestsRate: 1 });
    await post(sandbox);
    await post(sandbox);
    expect(sandbox.stats()).toEqual({ requests: { balance: 2 } });
  });

  it('takes faults from the admin endpoint, and drops them on DELETE', async () => {
    const sandbox = await startSandbox();
    expect((await admin(sandbox, 'POST', '/faults', { serverErrorRate: 1 })).status).toBe(200);
    expect((await post(sandbox)).status).toBeGreaterThanOrEqual(500);
    expect((await admin(sandbox, 'DELETE', '/faults')).status).toBe(200);
    expect((await post(sandbox)).status).toBe(200);
  });

  it('refuses a fault spec it cannot follow, with 400', async () => {
    const sandbox = await startSandbox();
    const specs = [{ serverErrorRate: 2 }, { latencyMs: -1 }, { count: 0 }, { actions: 'add' }, { slow: true }, []];
    for (const spec of specs) {
      const response = await admin(sandbox, 'POST', '/faults', spec);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: expect.any(String) });
    }
    expect(() => sandbox.setFaults({ dropRate: -0.1 })).toThrow(/dropRate/);
  });
});
