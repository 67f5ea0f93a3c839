/**
 * Following orders nobody watches, and pushing their changes: 1,000 orders placed through a
 * gateway in server-key mode, no subscription open. It counts the supplier `status` calls per
 * follow interval while nothing changes, then moves every order on (the sandbox's clock) and
 * measures, for each change, the delay from the gateway recording it to a webhook receiver on
 * loopback getting it (verified with standardwebhooks), in memory and with Redis, one after the
 * other in one run.
 */
import { createSandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, CreateWebhookEndpointDocument, OrderEventsDocument, type OrderEventsQuery } from '../generated/graphql.ts';
import { graphql, sleep, startGateway } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { startReceiver } from '../support/receiver.ts';
import { redisPresent, startRedis } from '../support/redis.ts';
import { percentile } from './latency.ts';

const ORDERS = 1000;
const FOLLOW_MS = 1000;
const INTERVALS = 10;
const SHOP = 'bench-shop-secret';

interface Row {
  store: string;
  callsPerInterval: number;
  events: number;
  delivered: number;
  p50: number;
  p99: number;
}

async function measure(store: 'memory' | 'redis'): Promise<Row> {
  const redis = store === 'redis' ? await startRedis() : undefined;
  const sandbox = await createSandbox({ port: 0, timeScale: 0, partialShare: 0, cancelShare: 0 });
  const gateway = await startGateway(sandbox, {
    HSTOCK_API_KEY: DEMO_KEY,
    GATEWAY_TOKENS: `shop:${SHOP}`,
    FOLLOW_POLL_MS: String(FOLLOW_MS),
    FOLLOW_POLL_MAX_MS: String(FOLLOW_MS),
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...(redis ? { REDIS_URL: redis.url } : {}),
  });
  const receiver = await startReceiver();
  try {
    const created = await graphql(gateway.url, CreateWebhookEndpointDocument, { input: { url: receiver.url } }, SHOP);
    receiver.secrets.push(created.createWebhookEndpoint.secret);
    const input = { serviceId: '1001', quantity: 100, link: 'https://instagram.com/p/follow' };
    for (let n = 0; n < ORDERS; n += 1) await graphql(gateway.url, AddOrderDocument, { input }, SHOP);

    // The first poll of each order records its version 1; then nothing changes.
    while (receiver.delivered().length < ORDERS) await sleep(100);
    sandbox.resetStats();
    await sleep(FOLLOW_MS * INTERVALS);
    const callsPerInterval = (sandbox.stats().requests.status ?? 0) / INTERVALS;

    // Every order starts delivering: one change each, recorded and pushed.
    sandbox.advance(45);
    while (receiver.delivered().length < ORDERS * 2) await sleep(50);
    const recorded = new Map<string, number>();
    let after: string | null | undefined;
    for (;;) {
      const { orderEvents }: OrderEventsQuery = await graphql(gateway.url, OrderEventsDocument, { after, first: 500 }, SHOP);
      for (const edge of orderEvents.edges) recorded.set(edge.node.id, Date.parse(String(edge.node.at)));
      if (!orderEvents.pageInfo.hasNextPage) break;
      after = orderEvents.pageInfo.endCursor;
    }
    const delays = receiver
      .delivered()
      .slice(ORDERS)
      .map((hit) => hit.at - recorded.get(hit.payload.data.eventId)!)
      .sort((a, b) => a - b);
    return {
      store,
      callsPerInterval,
      events: recorded.size,
      delivered: receiver.delivered().length,
      p50: percentile(delays, 50),
      p99: percentile(delays, 99),
    };
  } finally {
    await receiver.close();
    await gateway.stop();
    await sandbox.close();
    await redis?.close();
  }
}

export async function benchFollow(): Promise<void> {
  const rows = [await measure('memory')];
  if (redisPresent) rows.push(await measure('redis'));
  console.log(`\nFollowing ${ORDERS} orders nobody watches (every ${FOLLOW_MS} ms) and pushing each change to a webhook receiver`);
  console.table(
    rows.map((row) => ({
      store: row.store,
      'status calls per interval': row.callsPerInterval.toFixed(1),
      'events recorded': row.events,
      'events delivered': row.delivered,
      'events lost': row.events - row.delivered,
      'delay p50 ms': row.p50.toFixed(0),
      'delay p99 ms': row.p99.toFixed(0),
    })),
  );
}
