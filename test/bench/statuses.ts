/**
 * Order statuses per supplier call: 1,000 orders watched over WebSocket (one watcher each, no
 * status changing) and `orders(ids:)` with 100 ids, against a supplier of the whole API v2 family
 * and one of the seed page's actions only (`status` one order at a time), side by side. It counts
 * `status` calls in the sandbox over a window of whole poll intervals.
 */
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createSandbox, type ApiLevel } from '../../src/sandbox/index.ts';
import { AddOrderDocument, OrdersDocument, OrderStatusDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { graphql, sleep, startGateway } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';

const ORDERS = 1000;
const POLL_MS = 1000;
const INTERVALS = 10;
const PER_CONNECTION = 500;

interface Row {
  api: ApiLevel;
  callsPerInterval: number;
  firstEventsMs: number;
  ordersByIdCalls: number;
}

async function measure(api: ApiLevel): Promise<Row> {
  // Time stands still in the sandbox: no order changes, so every round polls every order.
  const sandbox = await createSandbox({ port: 0, timeScale: 0, api });
  const gateway = await startGateway(sandbox, {
    ORDER_POLL_MS: String(POLL_MS),
    ORDER_POLL_MAX_MS: String(POLL_MS),
    SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
    SUBSCRIPTIONS_PER_TENANT: String(ORDERS * 2),
    SUBSCRIPTION_STARTS_PER_SECOND: String(ORDERS * 10),
    SUBSCRIPTION_STARTS_BURST: String(ORDERS * 10),
  });
  const clients: Client[] = [];
  try {
    const { services } = await graphql(gateway.url, ServicesPageDocument, { first: 1, category: 'Instagram' });
    const service = services.edges[0]!.node;
    const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/bench' };
    const ids: string[] = [];
    for (let n = 0; n < ORDERS; n += 1) ids.push((await graphql(gateway.url, AddOrderDocument, { input })).addOrder.id);

    sandbox.resetStats();
    await graphql(gateway.url, OrdersDocument, { ids: ids.slice(0, 100) });
    // A supplier without `orders=` is asked once whether it has it; the second read shows the steady cost.
    sandbox.resetStats();
    await graphql(gateway.url, OrdersDocument, { ids: ids.slice(100, 200) });
    const ordersByIdCalls = sandbox.stats().requests.status ?? 0;

    for (let n = 0; n < ORDERS / PER_CONNECTION; n += 1) {
      clients.push(
        createClient({
          url: gateway.url.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          connectionParams: { apiKey: DEMO_KEY },
          retryAttempts: 0,
        }),
      );
    }
    const started = performance.now();
    let first = 0;
    await new Promise<void>((resolve) => {
      ids.forEach((id, n) =>
        clients[n % clients.length]!.subscribe(
          { query: print(OrderStatusDocument), variables: { id } },
          {
            next: () => void (++first === ORDERS && resolve()),
            error: (error) => console.error('subscription error', error),
            complete: () => {},
          },
        ),
      );
    });
    const firstEventsMs = performance.now() - started;
    await sleep(POLL_MS * 2);
    sandbox.resetStats();
    await sleep(POLL_MS * INTERVALS);
    const callsPerInterval = (sandbox.stats().requests.status ?? 0) / INTERVALS;
    return { api, callsPerInterval, firstEventsMs, ordersByIdCalls };
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    await gateway.stop();
    await sandbox.close();
  }
}

export async function benchStatuses(): Promise<void> {
  const rows: Row[] = [];
  for (const api of ['basic', 'full'] as ApiLevel[]) rows.push(await measure(api));
  console.log(`\nStatuses: ${ORDERS} watched orders polled every ${POLL_MS} ms (${INTERVALS} intervals), and orders(ids:) with 100 ids`);
  console.table(
    rows.map((row) => ({
      supplier: row.api === 'full' ? 'status with orders= (API v2 family)' : 'status one order at a time (seed page)',
      'status calls per interval': row.callsPerInterval.toFixed(1),
      'target (full)': 10,
      'first event of all 1,000 ms': row.firstEventsMs.toFixed(0),
      'orders(ids:) 100 ids: calls': row.ordersByIdCalls,
    })),
  );
}
