/**
 * Subscription fan-out benchmark: N WebSocket watchers of one order against a gateway in its own
 * process (so its memory is its own), with the sandbox as upstream. For each N it reports the
 * supplier `status` calls in a fixed window (the coalescing claim: the same for 1 as for 5000),
 * the gateway's resident memory per subscription, and how long one change takes to reach every
 * watcher once the first has it.
 */
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, OrderStatusDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { graphql, sleep, startGateway, type GatewayProcess } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';

const POLL_MS = 200;
const WINDOW_MS = 2000;
const PER_CONNECTION = 500;

async function placeOrder(url: string): Promise<string> {
  const { services } = await graphql(url, ServicesPageDocument, { first: 1, category: 'Instagram' });
  const service = services.edges[0]!.node;
  const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/bench' };
  return (await graphql(url, AddOrderDocument, { input })).addOrder.id;
}

interface Row {
  watchers: number;
  connections: number;
  statusCalls: number;
  rssMiB: number;
  kibPerSubscription: number;
  subscribeMs: number;
  fanOutMs: number;
}

async function measure(sandbox: Sandbox, gateway: GatewayProcess, watchers: number): Promise<Row> {
  const id = await placeOrder(gateway.url);
  await sleep(300);
  const before = gateway.rssMiB();

  const connections = Math.ceil(watchers / PER_CONNECTION);
  const clients: Client[] = Array.from({ length: connections }, () =>
    createClient({
      url: gateway.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { apiKey: DEMO_KEY },
      retryAttempts: 0,
    }),
  );
  const seen: string[][] = Array.from({ length: watchers }, () => []);
  const arrivals = new Map<string, number[]>();
  const started = performance.now();
  let firstEvents = 0;
  let allSubscribed!: () => void;
  const subscribed = new Promise<void>((resolve) => (allSubscribed = resolve));
  const disposers = seen.map((statuses, i) =>
    clients[i % connections]!.subscribe(
      { query: print(OrderStatusDocument), variables: { id } },
      {
        next: (event) => {
          const status = (event.data as { orderStatus: { status: string } }).orderStatus.status;
          statuses.push(status);
          (arrivals.get(status) ?? arrivals.set(status, []).get(status)!).push(performance.now());
          if (statuses.length === 1 && ++firstEvents === watchers) allSubscribed();
        },
        error: (error) => console.error('subscription error', error),
        complete: () => {},
      },
    ),
  );
  await subscribed;
  const subscribeMs = performance.now() - started;

  sandbox.resetStats();
  await sleep(WINDOW_MS);
  const statusCalls = sandbox.stats().requests.status ?? 0;
  const during = gateway.rssMiB();

  sandbox.advance(45);
  while ((arrivals.get('IN_PROGRESS')?.length ?? 0) < watchers) await sleep(5);
  const changed = arrivals.get('IN_PROGRESS')!;
  const fanOutMs = Math.max(...changed) - Math.min(...changed);

  for (const dispose of disposers) dispose();
  await Promise.all(clients.map((client) => client.dispose()));
  const duplicates = seen.filter((statuses) => new Set(statuses).size !== statuses.length).length;
  if (duplicates > 0) throw new Error(`${duplicates} watchers saw a state twice`);
  sandbox.advance(7200);
  await sleep(POLL_MS * 3);

  return {
    watchers,
    connections,
    statusCalls,
    rssMiB: during - before,
    kibPerSubscription: ((during - before) * 1024) / watchers,
    subscribeMs,
    fanOutMs,
  };
}

export async function benchSubscriptions(sizes: number[]): Promise<void> {
  const sandbox = await createSandbox({ port: 0, timeScale: 0 });
  const gateway = await startGateway(sandbox, {
    ORDER_POLL_MS: String(POLL_MS),
    ORDER_POLL_MAX_MS: String(POLL_MS),
    SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
  });
  try {
    await measure(sandbox, gateway, 10); // warm-up: JIT, first connection, catalogue cache
    const rows: Row[] = [];
    for (const watchers of sizes) rows.push(await measure(sandbox, gateway, watchers));
    const base = rows[0]!;
    console.log(`\nSubscriptions: one order, WebSocket watchers, poll every ${POLL_MS} ms, ${WINDOW_MS} ms window`);
    console.table(
      rows.map((row) => ({
        watchers: row.watchers,
        connections: row.connections,
        'status calls': row.statusCalls,
        'calls vs first row': (row.statusCalls / Math.max(1, base.statusCalls)).toFixed(2),
        'RSS growth MiB': row.rssMiB.toFixed(1),
        'KiB per subscription': row.kibPerSubscription.toFixed(1),
        'subscribe all ms': row.subscribeMs.toFixed(0),
        'fan-out ms': row.fanOutMs.toFixed(1),
      })),
    );
  } finally {
    await gateway.stop();
    await sandbox.close();
  }
}

/**
 * Memory of many subscriptions over many orders: `watchers` WebSocket watchers spread over
 * `orders` orders (one poll loop each), the gateway's resident memory before and with them.
 */
export async function benchSubscriptionMemory(watchers: number, orders: number): Promise<void> {
  const sandbox = await createSandbox({ port: 0, timeScale: 0 });
  const gateway = await startGateway(sandbox, {
    ORDER_POLL_MS: '5000',
    ORDER_POLL_MAX_MS: '60000',
    SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
  });
  try {
    const ids: string[] = [];
    for (let n = 0; n < orders; n += 1) ids.push(await placeOrder(gateway.url));
    await sleep(500);
    const before = gateway.rssMiB();
    const clients: Client[] = Array.from({ length: Math.ceil(watchers / PER_CONNECTION) }, () =>
      createClient({
        url: gateway.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { apiKey: DEMO_KEY },
        retryAttempts: 0,
      }),
    );
    let first = 0;
    await new Promise<void>((resolve) => {
      for (let n = 0; n < watchers; n += 1) {
        clients[n % clients.length]!.subscribe(
          { query: print(OrderStatusDocument), variables: { id: ids[n % orders]! } },
          {
            next: () => void (++first === watchers && resolve()),
            error: (error) => console.error('subscription error', error),
            complete: () => {},
          },
        );
      }
    });
    await sleep(1000);
    const during = gateway.rssMiB();
    console.log(`\nSubscription memory: ${watchers} WebSocket watchers over ${orders} orders`);
    console.table([
      {
        'RSS before MiB': before.toFixed(0),
        'RSS with them MiB': during.toFixed(0),
        'KiB per subscription': (((during - before) * 1024) / watchers).toFixed(1),
        target: 'RSS < 300 MiB',
      },
    ]);
    await Promise.all(clients.map((client) => client.dispose()));
  } finally {
    await gateway.stop();
    await sandbox.close();
  }
}
