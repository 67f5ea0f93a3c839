/**
 * Several instances benchmark: three gateway processes on one Redis and one sandbox. 3,000
 * WebSocket watchers over 300 orders, spread over the three: the supplier `status` calls per order
 * per poll interval (one loop per order across instances: 1). Then the cached catalogue read on
 * one gateway with REDIS_URL beside one without, side by side: the share of in-memory speed that
 * the shared cache keeps.
 */
import autocannon from 'autocannon';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createSandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, OrderStatusDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { graphql, sleep, startGateway, type GatewayProcess } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { redisPresent, startRedis } from '../support/redis.ts';

const POLL_MS = 200;
const WINDOW_MS = 4000;
const ORDERS = Number(process.env.BENCH_CLUSTER_ORDERS ?? 300);
const WATCHERS_PER_ORDER = 10;
const PER_CONNECTION = 500;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);

async function watchAll(gateways: GatewayProcess[], ids: string[]): Promise<{ clients: Client[]; subscribeMs: number }> {
  const total = ids.length * WATCHERS_PER_ORDER;
  const clients: Client[] = [];
  for (const gateway of gateways) {
    for (let n = 0; n < Math.ceil(total / gateways.length / PER_CONNECTION); n += 1) {
      clients.push(
        createClient({
          url: gateway.url.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          connectionParams: { apiKey: DEMO_KEY },
          retryAttempts: 0,
        }),
      );
    }
  }
  const started = performance.now();
  let first = 0;
  await new Promise<void>((resolve) => {
    for (let n = 0; n < total; n += 1) {
      clients[n % clients.length]!.subscribe(
        { query: print(OrderStatusDocument), variables: { id: ids[n % ids.length]! } },
        {
          next: () => {
            if (++first === total) resolve();
          },
          error: (error) => console.error('subscription error', error),
          complete: () => {},
        },
      );
    }
  });
  return { clients, subscribeMs: performance.now() - started };
}

async function catalogueRate(url: string): Promise<{ rps: number; p50: number; p99: number }> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
    body: JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 50, category: 'Instagram' } }),
    connections: 20,
  };
  await autocannon({ ...options, duration: 1 });
  const result = await autocannon({ ...options, duration: DURATION_S });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

export async function benchCluster(): Promise<void> {
  if (!redisPresent) throw new Error('npm run bench -- cluster needs redis-server (apt-get install redis-server)');
  const redis = await startRedis();
  const sandbox = await createSandbox({ port: 0, timeScale: 0 });
  const env = {
    REDIS_URL: redis.url,
    ORDER_POLL_MS: String(POLL_MS),
    ORDER_POLL_MAX_MS: String(POLL_MS),
    SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
  };
  const gateways = await Promise.all([startGateway(sandbox, env), startGateway(sandbox, env), startGateway(sandbox, env)]);
  try {
    const { services } = await graphql(gateways[0]!.url, ServicesPageDocument, { first: 1, category: 'Instagram' });
    const service = services.edges[0]!.node;
    const ids: string[] = [];
    for (let n = 0; n < ORDERS; n += 1) {
      const input = { serviceId: service.id, quantity: service.min, link: `https://instagram.com/p/cluster-${n}` };
      ids.push((await graphql(gateways[n % 3]!.url, AddOrderDocument, { input })).addOrder.id);
    }
    const { clients, subscribeMs } = await watchAll(gateways, ids);
    await sleep(POLL_MS * 3);
    sandbox.resetStats();
    await sleep(WINDOW_MS);
    const calls = sandbox.stats().requests.status ?? 0;
    const perOrderPerInterval = calls / ORDERS / (WINDOW_MS / POLL_MS);
    await Promise.all(clients.map((client) => client.dispose()));

    console.log(
      `\nCluster: 3 instances, ${ORDERS * WATCHERS_PER_ORDER} watchers over ${ORDERS} orders, poll every ${POLL_MS} ms, ${WINDOW_MS} ms window`,
    );
    console.table([
      {
        'status calls': calls,
        'per order per interval': perOrderPerInterval.toFixed(3),
        target: '<= 1.05',
        'subscribe all ms': subscribeMs.toFixed(0),
      },
    ]);
  } finally {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
  }

  const rows: Array<{ name: string; rps: number; p50: number; p99: number }> = [];
  const variants: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'in memory', env: {} },
    { name: 'REDIS_URL', env: { REDIS_URL: redis.url } },
  ];
  // Two rounds, alternating, so that neither variant always runs on a machine still busy with the last.
  for (const round of [1, 2]) {
    for (const variant of variants) {
      const gateway = await startGateway(sandbox, variant.env);
      try {
        rows.push({ name: `${variant.name} (round ${round})`, ...(await catalogueRate(gateway.url)) });
      } finally {
        await gateway.stop();
      }
    }
  }
  const mean = (name: string) => {
    const runs = rows.filter((row) => row.name.startsWith(name));
    return runs.reduce((sum, row) => sum + row.rps, 0) / runs.length;
  };
  const ratio = mean('REDIS_URL') / mean('in memory');
  await sandbox.close();
  await redis.close();
  console.log(`\nCached catalogue: services(first: 50), 20 connections for ${DURATION_S} s each`);
  console.table(rows.map((row) => ({ gateway: row.name, 'req/s': row.rps.toFixed(0), 'p50 ms': row.p50, 'p99 ms': row.p99 })));
  console.log(`REDIS_URL vs in memory (mean of both rounds): ${ratio.toFixed(2)} (target >= 0.90)`);
}
