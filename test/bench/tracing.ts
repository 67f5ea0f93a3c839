/**
 * What traces cost, side by side in one run: the cached catalogue read under load, and
 * `order(id) { status }` one request at a time, on a gateway with traces off and on one sending
 * them to a collector on loopback that takes every export and keeps nothing. The catalogue runs
 * alternate (off, on, on, off) so that neither variant always meets a warmer machine.
 */
import { createServer, type Server } from 'node:http';
import { print } from 'graphql';
import { createSandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, OrderDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { graphql, startGateway, type GatewayProcess } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { listen } from '../support/ports.ts';
import { catalogueBody, load } from './catalogue.ts';
import { percentile } from './latency.ts';

const ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3000);

/** An OTLP/HTTP endpoint that answers every export at once and counts what it was sent. */
async function collector(): Promise<{ url: string; exports: number; bytes: number; server: Server }> {
  const counts = { exports: 0, bytes: 0 };
  const server = createServer((req, res) => {
    counts.exports += 1;
    req.on('data', (chunk: Buffer) => (counts.bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  const url = await listen(server);
  return Object.assign(counts, { url, server });
}

async function placeOrder(gateway: GatewayProcess): Promise<string> {
  const service = (await graphql(gateway.url, ServicesPageDocument, { first: 1, category: 'Instagram' })).services.edges[0]!.node;
  return (
    await graphql(gateway.url, AddOrderDocument, {
      input: { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/tracing' },
    })
  ).addOrder.id;
}

export async function benchTracing(): Promise<void> {
  const sandbox = await createSandbox({ port: 0, timeScale: 0 });
  const sink = await collector();
  const gateways = { off: await startGateway(sandbox), on: await startGateway(sandbox, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url }) };
  const variants = ['off', 'on'] as const;
  try {
    const catalogue = { off: [] as Array<Awaited<ReturnType<typeof load>>>, on: [] as Array<Awaited<ReturnType<typeof load>>> };
    for (const name of [...variants, ...[...variants].reverse()]) catalogue[name].push(await load(gateways[name].url, catalogueBody));

    // Each gateway lists only the orders placed through it.
    const bodies = { off: '', on: '' };
    for (const name of variants)
      bodies[name] = JSON.stringify({ query: print(OrderDocument), variables: { id: await placeOrder(gateways[name]) } });
    const timings = { off: [] as number[], on: [] as number[] };
    for (let round = -200; round < ROUNDS; round += 1) {
      for (const name of variants) {
        const started = performance.now();
        const response = await fetch(gateways[name].url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
          body: bodies[name],
        });
        await response.arrayBuffer();
        if (round >= 0) timings[name].push(performance.now() - started);
      }
    }

    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const rows = variants.map((name) => {
      const runs = catalogue[name];
      const sorted = timings[name].sort((a, b) => a - b);
      return {
        traces: name,
        'catalogue req/s': mean(runs.map((run) => run.rps)),
        'catalogue p50 ms': mean(runs.map((run) => run.p50)),
        'catalogue p99 ms': mean(runs.map((run) => run.p99)),
        'catalogue errors': runs.reduce((sum, run) => sum + run.errors, 0),
        'order(id) p50 ms': percentile(sorted, 50),
        'order(id) p99 ms': percentile(sorted, 99),
      };
    });
    const [off, on] = rows as [(typeof rows)[number], (typeof rows)[number]];
    console.log(`\nTraces off vs on: the cached catalogue (2 runs each, alternating), order(id) over ${ROUNDS} interleaved rounds`);
    console.table(
      rows.map((row) =>
        Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'number' ? Number(value.toFixed(2)) : value])),
      ),
    );
    console.log(
      `traces on vs off: cached catalogue ${(on['catalogue req/s'] / off['catalogue req/s']).toFixed(2)} of the rate; ` +
        `order(id) +${(on['order(id) p50 ms'] - off['order(id) p50 ms']).toFixed(2)} ms at p50, +${(on['order(id) p99 ms'] - off['order(id) p99 ms']).toFixed(2)} ms at p99; ` +
        `the collector took ${sink.exports} exports, ${(sink.bytes / 1024 / 1024).toFixed(1)} MiB`,
    );
  } finally {
    await Promise.all(variants.map((name) => gateways[name].stop()));
    await new Promise((resolve) => sink.server.close(resolve));
    await sandbox.close();
  }
}
