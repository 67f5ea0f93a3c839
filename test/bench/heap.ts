/**
 * Heap per subscriber, from heap snapshots of the compiled gateway: one subscriber on each of
 * 1,000 orders (1,000 groups), then 10,000 more on the same orders (10 more a group), the
 * snapshot's total self size before and after, divided by the 10,000. What one more subscriber to
 * a running group costs, its socket's share included (100 subscriptions a connection).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type WebSocket from 'ws';
import { createSandbox } from '../../src/sandbox/index.ts';
import { sleep, startGateway, type GatewayProcess } from '../support/bench.ts';
import { redisPresent, startRedis } from '../support/redis.ts';
import { connectAll, placeOrders, subscribe } from './fanout.ts';

const ORDERS = 1000;
const MORE = 10_000;

interface Snapshot {
  snapshot: { meta: { node_fields: string[] } };
  nodes: number[];
}

/** Writes a heap snapshot of the gateway (SIGUSR2) and resolves to its total self size in bytes. */
async function heapBytes(gateway: GatewayProcess, dir: string): Promise<number> {
  const before = new Set(readdirSync(dir));
  gateway.child.kill('SIGUSR2');
  // Written in pieces: read once it parses.
  for (;;) {
    await sleep(500);
    const file = readdirSync(dir).find((name) => !before.has(name) && name.endsWith('.heapsnapshot'));
    if (!file) continue;
    try {
      const { snapshot, nodes } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Snapshot;
      return totalSelfSize(snapshot, nodes);
    } catch {
      // not whole yet
    }
  }
}

function totalSelfSize(snapshot: Snapshot['snapshot'], nodes: number[]): number {
  const fields = snapshot.meta.node_fields;
  const self = fields.indexOf('self_size');
  let total = 0;
  for (let i = self; i < nodes.length; i += fields.length) total += nodes[i]!;
  return total;
}

async function subscribeAll(url: string, orders: string[], count: number, offset: number): Promise<WebSocket[]> {
  let first = 0;
  const sockets = await connectAll(url, count / 100, (message) => void (message.type === 'next' && (first += 1)));
  sockets.forEach((socket, c) => {
    for (let n = offset + c * 100; n < offset + (c + 1) * 100; n += 1) subscribe(socket, String(n), orders[n % ORDERS]!);
  });
  while (first < count) await sleep(50);
  return sockets;
}

async function measure(store: 'memory' | 'redis'): Promise<{ store: string; first: number; more: number }> {
  const redis = store === 'redis' ? await startRedis() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'heap-'));
  const sandbox = await createSandbox({ port: 0, timeScale: 0 });
  const flags = `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`;
  const saved = process.env.BENCH_NODE_FLAGS;
  process.env.BENCH_NODE_FLAGS = flags;
  const gateway = await startGateway(sandbox, {
    ORDER_POLL_MS: '60000',
    ORDER_POLL_MAX_MS: '60000',
    SUBSCRIPTIONS_PER_CONNECTION: '1000',
    SUBSCRIPTIONS_PER_TENANT: '1000000',
    SUBSCRIPTION_STARTS_PER_SECOND: '1000000',
    SUBSCRIPTION_STARTS_BURST: '1000000',
    ...(redis ? { REDIS_URL: redis.url } : {}),
  });
  process.env.BENCH_NODE_FLAGS = saved;
  try {
    const orders = await placeOrders(gateway.url);
    const none = await heapBytes(gateway, dir);
    const firsts = await subscribeAll(gateway.url, orders, ORDERS, 0);
    const groups = await heapBytes(gateway, dir);
    const joiners = await subscribeAll(gateway.url, orders, MORE, ORDERS);
    const all = await heapBytes(gateway, dir);
    for (const socket of [...firsts, ...joiners]) socket.close();
    return { store, first: (groups - none) / ORDERS, more: (all - groups) / MORE };
  } finally {
    await gateway.stop();
    await sandbox.close();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchHeap(): Promise<void> {
  const rows = [await measure('memory')];
  if (redisPresent) rows.push(await measure('redis'));
  console.log(`\nHeap per subscription (heap snapshots): ${ORDERS} groups of one, then ${MORE} more subscribers to them`);
  console.table(
    rows.map((row) => ({
      store: row.store,
      'first of a group KiB': (row.first / 1024).toFixed(2),
      'each one more KiB': (row.more / 1024).toFixed(2),
      target: 'below 2 KiB',
    })),
  );
}
