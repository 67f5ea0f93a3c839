/**
 * Added latency: `order(id) { status }` through the gateway against the same `status` call made
 * straight to the sandbox, one request at a time, interleaved so both meet the same machine.
 * What the gateway adds is the difference of the percentiles.
 */
import { print } from 'graphql';
import { createSandbox } from '../../src/sandbox/index.ts';
import { OrderDocument } from '../generated/graphql.ts';
import { KEY, graphql, startGateway } from './support.ts';
import { AddOrderDocument, ServicesPageDocument } from '../generated/graphql.ts';

const ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3000);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

export async function benchLatency(): Promise<void> {
  const sandbox = await createSandbox({ port: 0, timeScale: 0 });
  const gateway = await startGateway(sandbox);
  try {
    const { services } = await graphql(gateway.url, ServicesPageDocument, { first: 1, category: 'Instagram' });
    const service = services.edges[0]!.node;
    const id = (await graphql(gateway.url, AddOrderDocument, { input: { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/latency' } })).addOrder.id;
    const direct = () => fetch(sandbox.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `key=${KEY}&action=status&order=${id}` });
    const body = JSON.stringify({ query: print(OrderDocument), variables: { id } });
    const viaGateway = () => fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body });
    const timings = { direct: [] as number[], gateway: [] as number[] };
    for (let round = -200; round < ROUNDS; round += 1) {
      for (const [name, call] of [['direct', direct], ['gateway', viaGateway]] as const) {
        const started = performance.now();
        await (await call()).arrayBuffer();
        if (round >= 0) timings[name].push(performance.now() - started);
      }
    }
    const direct50 = percentile(timings.direct.sort((a, b) => a - b), 50);
    const direct99 = percentile(timings.direct, 99);
    const gateway50 = percentile(timings.gateway.sort((a, b) => a - b), 50);
    const gateway99 = percentile(timings.gateway, 99);
    console.log(`\nAdded latency of order(id) over a direct supplier call, ${ROUNDS} interleaved rounds`);
    console.table([
      { path: 'direct status call', 'p50 ms': direct50.toFixed(2), 'p99 ms': direct99.toFixed(2) },
      { path: 'gateway order(id)', 'p50 ms': gateway50.toFixed(2), 'p99 ms': gateway99.toFixed(2) },
      { path: 'added', 'p50 ms': (gateway50 - direct50).toFixed(2), 'p99 ms': (gateway99 - direct99).toFixed(2) },
    ]);
    console.log('targets: added p50 <= 0.5 ms, p99 <= 3 ms');
  } finally {
    await gateway.stop();
    await sandbox.close();
  }
}
