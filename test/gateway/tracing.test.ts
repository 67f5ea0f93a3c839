/**
 * Traces as an operator's collector receives them: an OTLP/HTTP receiver on loopback decodes every
 * export, and a proxy in front of the sandbox keeps the headers the supplier is sent. The spans are
 * checked for their tree, for the caller's trace context, for the `traceparent` each supplier
 * request carries, and for what they must never hold.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { propagation, trace } from '@opentelemetry/api';
import { parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import type { Tracing } from '../../src/observability/tracing.ts';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { BalanceDocument, OrderStatusDocument } from '../generated/graphql.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { freePort, listen } from '../support/ports.ts';
import { wsClient } from '../support/subscribe.ts';

/** One operation that makes two supplier calls, each of its own action: the balance and one order. */
const BALANCE_AND_ORDER = parse('query Orders($id: ID!) { balance { amount } order(id: $id) { status } }') as TypedDocumentNode<
  unknown,
  { id: string }
>;

/** OTLP's span kinds, as numbers in its JSON encoding. */
const SERVER = 2;
const CLIENT = 3;

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface OtlpExport {
  resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Omit<ExportedSpan, 'attributes'> & { attributes?: OtlpAttribute[] }> }> }>;
}

const closing = (server: Server) => new Promise((resolve) => server.close(resolve).closeAllConnections());

/** A collector's OTLP/HTTP endpoint: every span of every JSON export, and each export as sent. */
async function otlpReceiver() {
  const spans: ExportedSpan[] = [];
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    bodies.push(body);
    for (const resource of (JSON.parse(body) as OtlpExport).resourceSpans) {
      for (const scope of resource.scopeSpans) {
        for (const span of scope.spans) {
          const attributes = Object.fromEntries((span.attributes ?? []).map(({ key, value }) => [key, Object.values(value)[0]]));
          spans.push({ ...span, attributes });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const url = `${await listen(server)}/v1/traces`;
  return { url, spans, bodies, close: () => closing(server) };
}

/** A proxy in front of the sandbox that keeps the headers of every request it passes on. */
async function recordingProxy(sandbox: Sandbox) {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const onward = request(new URL(req.url!, sandbox.origin), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(onward);
  });
  const url = `${await listen(server)}${new URL(sandbox.url).pathname}`;
  return { url, seen, close: () => closing(server) };
}

describe('traces', () => {
  let sandbox: Sandbox;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  beforeAll(async () => {
    sandbox = await createSandbox({ port: 0 });
    proxy = await recordingProxy(sandbox);
  });
  afterAll(async () => {
    await proxy.close();
    await sandbox.close();
  });

  describe('with no OTLP endpoint', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ upstream: sandbox, config: { upstreamUrl: proxy.url } });
    });
    afterAll(() => h.close());

    it('registers no tracer provider and sends the supplier no traceparent', async () => {
      proxy.seen.length = 0;
      expect((await h.request(BalanceDocument)).errors).toBeUndefined();
      expect(h.gateway.runtime.tracing).toBeUndefined();
      expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
      expect(propagation.fields()).toEqual([]);
      expect(proxy.seen.length).toBeGreaterThan(0);
      expect(proxy.seen.filter((headers) => headers.traceparent !== undefined)).toEqual([]);
    });
  });

  describe('with an OTLP endpoint', () => {
    let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
    let h: Harness;
    let tracing: Tracing;
    beforeAll(async () => {
      receiver = await otlpReceiver();
      h = await startHarness({
        upstream: sandbox,
        config: { upstreamUrl: proxy.url, traces: { url: receiver.url, serviceName: 'hstock-gateway-test' } },
      });
      tracing = h.gateway.runtime.tracing!;
    });
    afterAll(async () => {
      await h.close();
      await receiver.close();
    });

    /** The exported spans once `ready` holds of them; spans end after their answer is sent, so each try flushes again. */
    async function exported(ready: (spans: ExportedSpan[]) => boolean): Promise<ExportedSpan[]> {
      await expect
        .poll(async () => {
          await tracing.flush();
          return ready(receiver.spans);
        })
        .toBe(true);
      return receiver.spans;
    }

    const named = (spans: ExportedSpan[], name: string) => spans.filter((span) => span.name === name);
    const childrenOf = (spans: ExportedSpan[], parent: ExportedSpan) => spans.filter((span) => span.parentSpanId === parent.spanId);
    const isUnder = (spans: ExportedSpan[], span: ExportedSpan, ancestor: ExportedSpan): boolean => {
      const parent = spans.find((candidate) => candidate.spanId === span.parentSpanId);
      return parent !== undefined && (parent === ancestor || isUnder(spans, parent, ancestor));
    };

    it('makes one trace of an operation that calls the supplier twice: both calls under the operation, under the HTTP request', async () => {
      const id = await h.placeOrder();
      sandbox.resetStats();
      const answer = await h.request(BALANCE_AND_ORDER, { id });
      expect(answer.errors).toBeUndefined();
      expect([h.calls('balance'), h.calls('status')]).toEqual([1, 1]);

      const traceOf = (all: ExportedSpan[]) => all.filter((span) => span.traceId === named(all, 'query Orders')[0]?.traceId);
      const spans = await exported(
        (all) =>
          named(all, 'query Orders').length === 1 &&
          named(traceOf(all), 'hstock balance').length === 1 &&
          named(traceOf(all), 'hstock status').length === 1 &&
          named(all, 'POST /graphql').length >= 3,
      );
      const operation = named(spans, 'query Orders')[0]!;
      const inTrace = spans.filter((span) => span.traceId === operation.traceId);
      const roots = inTrace.filter((span) => !span.parentSpanId);
      expect(roots).toMatchObject([
        {
          name: 'POST /graphql',
          kind: SERVER,
          attributes: { 'http.request.method': 'POST', 'http.route': '/graphql', 'http.response.status_code': 200 },
        },
      ]);
      expect(operation.parentSpanId).toBe(roots[0]!.spanId);
      expect(operation.attributes).toEqual({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'Orders' });

      const calls = [...named(inTrace, 'hstock balance'), ...named(inTrace, 'hstock status')];
      expect(calls).toHaveLength(2);
      for (const call of calls) {
        expect(call).toMatchObject({
          kind: CLIENT,
          attributes: { 'hstock.action': call.name.split(' ')[1], 'hstock.attempts': 1, 'hstock.outcome': 'ok' },
        });
        expect(isUnder(inTrace, call, operation)).toBe(true);
        expect(childrenOf(inTrace, call)).toMatchObject([{ name: 'POST', kind: CLIENT, attributes: { 'http.response.status_code': 200 } }]);
      }
    });

    it("continues the caller's trace and sends the supplier the trace context of its request", async () => {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const callerSpanId = '00f067aa0ba902b7';
      proxy.seen.length = 0;
      const answer = await h.request(BalanceDocument, undefined, { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } });
      expect(answer.errors).toBeUndefined();

      const spans = await exported((all) => all.some((span) => span.traceId === traceId && span.name === 'POST /graphql'));
      const inTrace = spans.filter((span) => span.traceId === traceId);
      expect(named(inTrace, 'POST /graphql')).toMatchObject([{ parentSpanId: callerSpanId }]);
      const [call] = named(inTrace, 'hstock balance');
      expect(call).toBeDefined();
      const [sent] = childrenOf(inTrace, call!);
      expect(proxy.seen.map((headers) => headers.traceparent)).toEqual([`00-${traceId}-${sent!.spanId}-01`]);
    });

    it('gives a placement a span under its mutation, and each poll tick a trace of its own', async () => {
      const earlier = receiver.spans.length;
      const id = await h.placeOrder();
      const client = wsClient(h.url);
      for await (const event of client.iterate({ query: print(OrderStatusDocument), variables: { id } })) {
        expect(event.errors).toBeUndefined();
        break;
      }
      await client.dispose();

      const fresh = (all: ExportedSpan[]) => all.slice(earlier);
      const spans = await exported(
        (all) =>
          named(fresh(all), 'hstock add').length === 1 &&
          named(fresh(all), 'subscription OrderStatus').length === 1 &&
          named(fresh(all), 'poll tick').length > 0,
      );
      const add = named(fresh(spans), 'hstock add')[0]!;
      const [placement] = named(spans, 'placement addOrder').filter((span) => span.traceId === add.traceId);
      expect(placement).toMatchObject({ attributes: { 'hstock.placement.mutation': 'addOrder' } });
      expect(isUnder(spans, add, placement!)).toBe(true);
      expect(spans.find((span) => span.spanId === placement!.parentSpanId)).toMatchObject({ name: 'mutation AddOrder' });

      // Over WebSocket there is no HTTP request: the operation starts its trace.
      expect(named(fresh(spans), 'subscription OrderStatus')[0]!.parentSpanId ?? '').toBe('');
      const tick = named(fresh(spans), 'poll tick')[0]!;
      expect(tick).toMatchObject({ attributes: { 'hstock.poll.role': 'local' } });
      expect(tick.parentSpanId ?? '').toBe('');
      expect(spans.filter((span) => span.traceId === tick.traceId && span.name === 'hstock status')).toHaveLength(1);
    });

    it('puts no key, token or form body in any span', async () => {
      await exported((all) => all.length > 0);
      const sent = receiver.bodies.join('\n');
      expect(sent).toContain('hstock-gateway-test');
      expect(sent).not.toContain(DEMO_KEY);
      expect(sent).not.toMatch(/key=|action=|authorization|bearer/i);
    });
  });

  describe('with a collector that cannot be reached', () => {
    let h: Harness;
    const warnings: string[] = [];
    beforeAll(async () => {
      const url = `http://127.0.0.1:${await freePort()}/v1/traces`;
      // The exporter's own standard setting, so that its retries give up within the test.
      process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = '300';
      const log = new Writable({
        write(chunk: Buffer, _encoding, done) {
          warnings.push(
            ...chunk
              .toString()
              .split('\n')
              .filter((line) => line.includes('"level":40')),
          );
          done();
        },
      });
      h = await startHarness({
        upstream: sandbox,
        logger: createLogger('warn', log),
        config: { traces: { url, serviceName: 'hstock-gateway-test' } },
      });
    });
    afterAll(() => {
      delete process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
    });

    it('answers as usual, and stops cleanly with a warning that the last spans were not sent', async () => {
      expect((await h.request(BalanceDocument)).errors).toBeUndefined();
      await expect(h.close()).resolves.toBeUndefined();
      expect(warnings.join('\n')).toContain('traces: the last spans could not be sent');
      expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    });
  });
});
