/**
 * What an operator sees: /metrics scraped and parsed, /health and /ready through a supplier
 * outage with no client traffic, the access log, and the switches for CORS, GraphiQL and
 * introspection.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantOf } from '../../src/auth/authenticator.ts';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, BalanceDocument, OrderStatusDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { captureLogs, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { wsClient } from '../support/subscribe.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, parsed: one sample per line that is not a comment. */
function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1]!, pair[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((total, sample) => total + sample.value, 0);

describe('/metrics', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { rateLimit: { perSecond: 0.01, burst: 30 } } });
  });
  afterAll(() => h.close());

  it('exposes the supplier calls, cache reads, subscriptions, replays and limits in Prometheus text, with no key in any label', async () => {
    await h.request(ServicesPageDocument, { first: 2 });
    await h.request(ServicesPageDocument, { first: 2 });
    const service = (await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' })).data!.services.edges[0]!.node;
    const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/m', idempotencyKey: 'metrics-1' };
    const id = (await h.request(AddOrderDocument, { input })).data!.addOrder.id;
    await h.request(AddOrderDocument, { input });
    const client = wsClient(h.url);
    const first = new Promise((resolve) =>
      client.subscribe({ query: print(OrderStatusDocument), variables: { id } }, { next: resolve, error: resolve, complete: () => {} }),
    );
    await first;
    let limited = 0;
    while (limited === 0) if ((await h.request(BalanceDocument)).errors) limited += 1;

    const response = await fetch(new URL('/metrics', h.url));
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    const samples = parseMetrics(text);
    expect(sum(samples, 'hstock_upstream_requests_total', { action: 'services', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(sum(samples, 'hstock_upstream_requests_total', { action: 'add', outcome: 'ok' })).toBe(1);
    expect(sum(samples, 'hstock_upstream_request_duration_seconds_count', { action: 'add' })).toBe(1);
    expect(sum(samples, 'hstock_cache_reads_total', { action: 'services', result: 'hit' })).toBeGreaterThanOrEqual(1);
    expect(sum(samples, 'hstock_cache_reads_total', { action: 'services', result: 'miss' })).toBeGreaterThanOrEqual(1);
    expect(sum(samples, 'hstock_idempotent_replays_total')).toBe(1);
    expect(sum(samples, 'hstock_rate_limited_total', { reason: 'TENANT_RATE' })).toBeGreaterThanOrEqual(1);
    expect(sum(samples, 'hstock_subscriptions')).toBe(1);
    expect(sum(samples, 'hstock_poll_loops')).toBe(1);
    expect(sum(samples, 'hstock_poll_loops_local')).toBe(0);
    expect(sum(samples, 'hstock_circuit_open')).toBe(0);
    expect(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((sample) => sample.name.startsWith('graphql_envelop_request'))).toBe(true);
    for (const secret of [DEMO_KEY, tenantOf(DEMO_KEY), tenantOf(DEMO_KEY).slice(0, 8), 'metrics-1']) expect(text).not.toContain(secret);
    await client.dispose();
  });
});

describe('/metrics switches', () => {
  it('is not served with METRICS=false', async () => {
    const h = await startHarness({ config: { metrics: false } });
    try {
      expect((await fetch(new URL('/metrics', h.url))).status).toBe(404);
    } finally {
      await h.close();
    }
  });

  it('is served on METRICS_PORT, and only there, when it is set', async () => {
    const h = await startHarness({ config: { metricsPort: 0 } });
    try {
      const { port } = h.gateway.metricsAddress()!;
      const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(parseMetrics(await scrape.text()).some((sample) => sample.name === 'hstock_poll_loops')).toBe(true);
      expect((await fetch(new URL('/metrics', h.url))).status).toBe(404);
    } finally {
      await h.close();
    }
  });
});

describe('/health and /ready', () => {
  let sandbox: Sandbox;
  let h: Harness;
  const logs = captureLogs();
  const ready = async () => {
    const response = await fetch(new URL('/ready', h.url));
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  beforeAll(async () => {
    sandbox = await createSandbox({ port: 0 });
    sandbox.setFaults({ serverErrorRate: 1 });
    h = await startHarness({ upstream: sandbox, config: { readyProbeMs: 50 }, logger: logs.logger });
  });
  afterAll(async () => {
    await h.close();
    await sandbox.close();
  });

  it('is not ready before the supplier answered, becomes ready and recovers from an outage by itself', async () => {
    await expect.poll(() => sandbox.stats().requests.balance ?? 0).toBeGreaterThanOrEqual(2);
    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      status: 'not ready',
      supplier: { reachable: false, circuit: 'closed' },
      stateStore: { kind: 'memory', ready: true },
    });

    sandbox.clearFaults();
    await expect.poll(async () => (await ready()).status).toBe(200);
    expect((await ready()).body).toMatchObject({ status: 'ready', draining: false, supplier: { reachable: true } });

    sandbox.setFaults({ serverErrorRate: 1 });
    await expect.poll(async () => (await ready()).status).toBe(503);
    sandbox.clearFaults();
    await expect.poll(async () => (await ready()).status).toBe(200);

    // No client request was made: the probe alone moved it, and the outages were logged at warn.
    const messages = logs.lines.filter((line) => line.level === 40).map((line) => line.msg);
    expect(messages.filter((msg) => msg === 'supplier unreachable').length).toBeGreaterThanOrEqual(2);
    expect(messages.filter((msg) => msg === 'supplier reachable again').length).toBeGreaterThanOrEqual(1);
    expect(logs.lines.some((line) => line.msg === 'request')).toBe(false);
  });

  it('answers /health with the states whatever the supplier does', async () => {
    const response = await fetch(new URL('/health', h.url));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', supplier: expect.any(Object), stateStore: { kind: 'memory' } });
  });
});

describe('access log', () => {
  it('writes one line per request with its id, operation, status, duration, supplier calls and a short tenant, and no key', async () => {
    const logs = captureLogs();
    const h = await startHarness({ logger: logs.logger });
    try {
      const response = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}`, 'x-request-id': 'log-1' },
        body: JSON.stringify({ query: 'query Wallet { balance { amount } }' }),
      });
      await response.json();
      const lines = logs.lines.filter((line) => line.msg === 'request');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        requestId: 'log-1',
        operation: 'Wallet',
        type: 'query',
        status: 200,
        supplierCalls: 1,
        tenant: tenantOf(DEMO_KEY).slice(0, 8),
      });
      expect(lines[0]!.durationMs).toEqual(expect.any(Number));
      expect(JSON.stringify(logs.lines)).not.toContain(DEMO_KEY);
    } finally {
      await h.close();
    }
  });
});

describe('CORS, GraphiQL and introspection switches', () => {
  it('answers a preflight only from an origin in CORS_ORIGINS when it is set', async () => {
    const h = await startHarness({ config: { corsOrigins: ['https://shop.example'] } });
    try {
      const preflight = (origin: string) =>
        fetch(h.url, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
        });
      expect((await preflight('https://shop.example')).headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    } finally {
      await h.close();
    }
  });

  it('turns GraphiQL and introspection off', async () => {
    const h = await startHarness({ config: { graphiql: false, introspection: false } });
    try {
      const page = await fetch(h.url, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('graphiql');
      const introspection = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
        body: JSON.stringify({ query: '{ __schema { types { name } } }' }),
      });
      const body = (await introspection.json()) as { data?: unknown; errors?: Array<{ message: string }> };
      expect(body.data).toBeUndefined();
      expect(body.errors?.[0]?.message).toMatch(/introspection/i);
    } finally {
      await h.close();
    }
  });
});
