/**
 * Added latency: `order(id) { status }` through the gateway against the same `status` call made
 * straight to the sandbox, one request at a time, interleaved so both meet the same machine.
 * What the gateway adds is the difference of the percentiles.
 */
import { print } from 'graphql';
import { createSandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, OrderDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { graphql, startGateway } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';

const ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3000);

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

export async function benchLatency(): Promise<void> {
  const sandbox = await createSandbox({ port: 0, timeScale: 0 });
  const gateway = await startGateway(sandbox);
  try {
    const { services } = await graphql(gateway.url, ServicesPageDocument, { first: 1, category: 'Instagram' });
    const service = services.edges[0]!.node;
    const id = (
      await graphql(gateway.url, AddOrderDocument, {
        input: { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/latency' },
      })
    ).addOrder.id;
    const direct = () =>
      fetch(sandbox.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `key=${DEMO_KEY}&action=status&order=${id}`,
      });
    const body = JSON.stringify({ query: print(OrderDocument), variables: { id } });
    const viaGateway = () =>
      fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` }, body });
    // The framework's own floor: the same gateway answering `{ __typename }`, with no supplier call.
    const floorBody = JSON.stringify({ query: '{ __typename }' });
    const floor = () =>
      fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
        body: floorBody,
      });
    const calls = { direct, gateway: viaGateway, floor } as const;
    const timings: Record<keyof typeof calls, number[]> = { direct: [], gateway: [], floor: [] };
    for (let round = -200; round < ROUNDS; round += 1) {
      for (const name of Object.keys(calls) as Array<keyof typeof calls>) {
        const started = performance.now();
        await (await calls[name]()).arrayBuffer();
        if (round >= 0) timings[name].push(performance.now() - started);
      }
    }
    const [d, g, f] = [timings.direct, timings.gateway, timings.floor].map((list) => {
      const sorted = list.sort((x, y) => x - y);
      return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
    }) as [{ p50: number; p99: number }, { p50: number; p99: number }, { p50: number; p99: number }];
    const row = (path: string, p50: number, p99: number) => ({ path, 'p50 ms': p50.toFixed(2), 'p99 ms': p99.toFixed(2) });
    console.log(`\nAdded latency of order(id) over a direct supplier call, ${ROUNDS} interleaved rounds`);
    console.table([
      row('direct status call', d.p50, d.p99),
      row('gateway order(id)', g.p50, g.p99),
      row('added', g.p50 - d.p50, g.p99 - d.p99),
      row('gateway { __typename }: the floor', f.p50, f.p99),
      row('order(id) over the floor', g.p50 - f.p50, g.p99 - f.p99),
    ]);
    console.log('targets: added p50 <= 0.5 ms, p99 <= 3 ms');
  } finally {
    await gateway.stop();
    await sandbox.close();
  }
}
