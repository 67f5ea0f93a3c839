/**
 * Subscriptions at scale: 10,000 and then 100,000 `orderStatus` subscriptions spread evenly over
 * 1,000 orders each (10 and 100 subscribers an order), on graphql-ws connections of 100
 * subscriptions, against the compiled gateway in its own process, in memory and with Redis.
 *
 * For each size: the time from each subscribe to its first event; the supplier `status` calls per
 * order and poll interval while nothing changes; the gateway's CPU then; its resident memory and
 * its peak; then every order moved on at once (the sandbox's clock), and for every subscriber the
 * delay from the supplier answering the poll that showed the change to the subscriber having it
 * (the poll interval left out: a recording proxy in front of the sandbox notes when each order's
 * changed status left it), with the gateway's CPU during the fan-out. Last, subscribes and
 * unsubscribes at 10,000 a second each for 10 s over 100 connections.
 *
 * A raw graphql-transport-ws client, so that the benchmark's own side stays light: 100,000
 * graphql-ws client subscriptions would cost this process more than the gateway.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { print } from 'graphql';
import WebSocket from 'ws';
import { createSandbox, type Sandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, OrderStatusDocument } from '../generated/graphql.ts';
import { graphql, sleep, startGateway, type GatewayProcess } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { listen } from '../support/ports.ts';
import { redisPresent, startRedis } from '../support/redis.ts';
import { percentile } from './latency.ts';

const ORDERS = 1000;
const PER_CONNECTION = 100;
const POLL_MS = 1000;
const STEADY_MS = 5000;
const QUERY = print(OrderStatusDocument);

/** When each order's status first left the supplier changed (after `since`), as the gateway read it. */
class RecordingProxy {
  readonly shown = new Map<string, number>();
  since = Infinity;
  #server!: Server;
  url = '';

  constructor(private readonly upstream: string) {}

  async start(): Promise<void> {
    this.#server = createServer((request, response) => void this.#forward(request, response));
    this.url = `${await listen(this.#server)}/api/v2`;
  }

  async #forward(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const answer = await fetch(this.upstream, {
      method: 'POST',
      headers: { 'content-type': String(request.headers['content-type']) },
      body,
    });
    const text = await answer.text();
    response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
    response.end(text, () => {
      if (performance.now() < this.since) return;
      const form = new URLSearchParams(body);
      if (form.get('action') !== 'status') return;
      const parsed = JSON.parse(text) as Record<string, { status?: string }> & { status?: string };
      const ids = form.get('orders')?.split(',') ?? [form.get('order')!];
      for (const id of ids) {
        const status = ids.length > 1 || form.has('orders') ? parsed[id]?.status : parsed.status;
        if (status && status !== 'Pending' && !this.shown.has(id)) this.shown.set(id, performance.now());
      }
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** CPU seconds the process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Starts the peak (VmHWM) again from the current RSS, so that a phase's peak is its own. */
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

const peakMiB = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

interface Message {
  id?: string;
  type: string;
  payload?: { data?: { orderStatus?: { status: string } }; errors?: unknown[] } | unknown[];
}

/** One graphql-transport-ws connection; its messages go to `onMessage`. */
async function connect(url: string, onMessage: (message: Message) => void): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const acked = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message;
      if (message.type === 'connection_ack') resolve();
      else onMessage(message);
    });
    socket.once('close', (code) => reject(new Error(`closed with ${code}`)));
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: DEMO_KEY } }));
  await acked;
  return socket;
}

export async function connectAll(url: string, count: number, onMessage: (message: Message) => void): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  // In steps, under WS_UNAUTHENTICATED_PER_ADDRESS: a socket counts until its connection_init is admitted.
  for (let n = 0; n < count; n += 25) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(25, count - n) }, () => connect(url, onMessage)))));
  }
  return sockets;
}

export const subscribe = (socket: WebSocket, id: string, order: string) =>
  socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: QUERY, variables: { id: order } } }));

/** 1,000 orders placed through the gateway, 20 at a time. */
export async function placeOrders(url: string): Promise<string[]> {
  const ids: string[] = [];
  const input = { serviceId: '1001', quantity: 100, link: 'https://instagram.com/p/fanout' };
  for (let n = 0; n < ORDERS; n += 20) {
    const placed = await Promise.all(Array.from({ length: 20 }, () => graphql(url, AddOrderDocument, { input })));
    ids.push(...placed.map((answer) => answer.addOrder.id));
  }
  return ids;
}

async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const giveUp = performance.now() + timeoutMs; !done(); await sleep(20)) if (performance.now() > giveUp) return false;
  return true;
}

interface SizeRow {
  store: string;
  subscriptions: number;
  connections: number;
  firstEventP50: number;
  firstEventP99: number;
  firstEventMax: number;
  callsPerOrderInterval: number;
  steadyCpu: number;
  rssBefore: number;
  rssMiB: number;
  peakMiB: number;
  fanOutP50: number;
  fanOutP99: number;
  fanOutMax: number;
  deliveredAll: boolean;
  fanOutSpanMs: number;
  fanOutCpu: number;
  errors: number;
}

async function measureSize(
  store: string,
  sandbox: Sandbox,
  proxy: RecordingProxy,
  gateway: GatewayProcess,
  subscriptions: number,
): Promise<SizeRow> {
  const orders = await placeOrders(gateway.url);
  const pid = gateway.child.pid!;
  const rssBefore = gateway.rssMiB();
  resetPeak(pid);
  const orderOf = new Int32Array(subscriptions);
  const sentAt = new Float64Array(subscriptions);
  const firstAt = new Float64Array(subscriptions);
  const changedAt = new Float64Array(subscriptions);
  let firsts = 0;
  let changed = 0;
  let errors = 0;
  const onMessage = (message: Message) => {
    if (message.type !== 'next') {
      if (message.type === 'error') errors += 1;
      return;
    }
    const n = Number(message.id);
    const payload = message.payload as { data?: { orderStatus?: { status: string } }; errors?: unknown[] };
    if (payload.errors) errors += 1;
    const status = payload.data?.orderStatus?.status;
    if (firstAt[n] === 0) {
      firstAt[n] = performance.now();
      firsts += 1;
    }
    if (status === 'IN_PROGRESS' && changedAt[n] === 0) {
      changedAt[n] = performance.now();
      changed += 1;
    }
  };
  const connections = subscriptions / PER_CONNECTION;
  const sockets = await connectAll(gateway.url, connections, onMessage);
  for (let n = 0; n < subscriptions; n += 1) {
    orderOf[n] = n % ORDERS;
    sentAt[n] = performance.now();
    subscribe(sockets[n % connections]!, String(n), orders[n % ORDERS]!);
  }
  await until(() => firsts === subscriptions, 60_000);
  const firstDelays = Array.from(firstAt, (at, n) => (at === 0 ? Infinity : at - sentAt[n]!)).sort((a, b) => a - b);

  sandbox.resetStats();
  const cpuBefore = cpuSeconds(pid);
  await sleep(STEADY_MS);
  const steadyCpu = (cpuSeconds(pid) - cpuBefore) / (STEADY_MS / 1000);
  const callsPerOrderInterval = (sandbox.stats().requests.status ?? 0) / (STEADY_MS / POLL_MS) / ORDERS;
  const rssMiB = gateway.rssMiB();

  proxy.shown.clear();
  proxy.since = performance.now();
  const fanOutCpuBefore = cpuSeconds(pid);
  const fanOutStart = performance.now();
  sandbox.advance(45);
  const deliveredAll = await until(() => changed === subscriptions, 30_000);
  const fanOutMs = performance.now() - fanOutStart;
  const fanOutCpu = (cpuSeconds(pid) - fanOutCpuBefore) / (fanOutMs / 1000);
  proxy.since = Infinity;
  const delays = Array.from(changedAt, (at, n) => {
    const shown = proxy.shown.get(orders[orderOf[n]!]!);
    return at === 0 || shown === undefined ? Infinity : at - shown;
  }).sort((a, b) => a - b);
  const firstShown = Math.min(...proxy.shown.values());
  const lastChanged = Math.max(...changedAt);

  for (const socket of sockets) socket.close();
  await sleep(1000);
  sandbox.advance(7200);
  await sleep(POLL_MS * 2);
  return {
    store,
    subscriptions,
    connections,
    firstEventP50: percentile(firstDelays, 50),
    firstEventP99: percentile(firstDelays, 99),
    firstEventMax: firstDelays.at(-1)!,
    callsPerOrderInterval,
    steadyCpu,
    rssBefore,
    rssMiB,
    peakMiB: peakMiB(pid),
    fanOutP50: percentile(delays, 50),
    fanOutP99: percentile(delays, 99),
    fanOutMax: delays.at(-1)!,
    deliveredAll,
    fanOutSpanMs: lastChanged - firstShown,
    fanOutCpu,
    errors,
  };
}

interface ChurnRow {
  store: string;
  subscribed: number;
  unsubscribed: number;
  subscribeRate: number;
  firstEventP99: number;
  missing: number;
  errors: number;
  cpu: number;
}

/** Subscribes `rate` a second and unsubscribes as many, for `seconds`, over 100 connections. */
async function measureChurn(store: string, gateway: GatewayProcess, rate: number, seconds: number): Promise<ChurnRow> {
  const orders = await placeOrders(gateway.url);
  const total = rate * seconds;
  const sentAt = new Float64Array(total);
  const firstAt = new Float64Array(total);
  let errors = 0;
  const onMessage = (message: Message) => {
    if (message.type === 'error' || (message.type === 'next' && (message.payload as { errors?: unknown }).errors)) errors += 1;
    if (message.type !== 'next') return;
    const n = Number(message.id);
    if (firstAt[n] === 0) firstAt[n] = performance.now();
  };
  const sockets = await connectAll(gateway.url, 100, onMessage);
  const pid = gateway.child.pid!;
  const cpuBefore = cpuSeconds(pid);
  const started = performance.now();
  const tickMs = 10;
  let sent = 0;
  let completed = 0;
  // Each subscription lives one second: the population stays at about `rate`.
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent += 1) {
      sentAt[sent] = performance.now();
      subscribe(sockets[sent % sockets.length]!, String(sent), orders[sent % ORDERS]!);
    }
    const leaving = Math.max(0, due - rate);
    for (; completed < leaving; completed += 1)
      sockets[completed % sockets.length]!.send(JSON.stringify({ id: String(completed), type: 'complete' }));
    await sleep(tickMs);
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = (cpuSeconds(pid) - cpuBefore) / elapsed;
  await until(() => firstAt.every((at) => at !== 0), 5000);
  for (; completed < total; completed += 1)
    sockets[completed % sockets.length]!.send(JSON.stringify({ id: String(completed), type: 'complete' }));
  const delays = Array.from(firstAt, (at, n) => (at === 0 ? Infinity : at - sentAt[n]!)).sort((a, b) => a - b);
  for (const socket of sockets) socket.close();
  return {
    store,
    subscribed: sent,
    unsubscribed: completed,
    subscribeRate: sent / elapsed,
    firstEventP99: percentile(delays, 99),
    missing: firstAt.filter((at) => at === 0).length,
    errors,
    cpu,
  };
}

export async function benchFanout(sizes: number[]): Promise<void> {
  const stores = (process.env.BENCH_STORES?.split(',') ?? (redisPresent ? ['memory', 'redis'] : ['memory'])) as Array<'memory' | 'redis'>;
  if (!redisPresent) console.warn('redis-server is not installed: the Redis rows are left out');
  const sizeRows: SizeRow[] = [];
  const churnRows: ChurnRow[] = [];
  for (const store of stores) {
    const redis = store === 'redis' ? await startRedis() : undefined;
    const sandbox = await createSandbox({ port: 0, timeScale: 0, partialShare: 0, cancelShare: 0 });
    const proxy = new RecordingProxy(sandbox.url);
    await proxy.start();
    const gateway = await startGateway({ ...sandbox, url: proxy.url } as Sandbox, {
      ORDER_POLL_MS: String(POLL_MS),
      ORDER_POLL_MAX_MS: String(POLL_MS),
      SUBSCRIPTIONS_PER_CONNECTION: '1000',
      SUBSCRIPTIONS_PER_TENANT: '1000000',
      SUBSCRIPTION_STARTS_PER_SECOND: '1000000',
      SUBSCRIPTION_STARTS_BURST: '1000000',
      ...(redis ? { REDIS_URL: redis.url } : {}),
    });
    try {
      for (const size of sizes) sizeRows.push(await measureSize(store, sandbox, proxy, gateway, size));
      churnRows.push(await measureChurn(store, gateway, Number(process.env.BENCH_CHURN ?? 10_000), 10));
    } finally {
      await gateway.stop();
      await proxy.close();
      await sandbox.close();
      await redis?.close();
    }
  }
  const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : 'never');
  console.log(`\nFan-out: orderStatus subscriptions over ${ORDERS} orders, ${PER_CONNECTION} a connection, poll every ${POLL_MS} ms`);
  console.table(
    sizeRows.map((row) => ({
      store: row.store,
      subscriptions: row.subscriptions,
      connections: row.connections,
      'first event p50/p99/max ms': `${ms(row.firstEventP50)} / ${ms(row.firstEventP99)} / ${ms(row.firstEventMax)}`,
      'status calls per order per interval': row.callsPerOrderInterval.toFixed(3),
      'CPU steady': `${(row.steadyCpu * 100).toFixed(0)}%`,
      'RSS before MiB': row.rssBefore.toFixed(0),
      'RSS MiB': row.rssMiB.toFixed(0),
      'RSS peak MiB': row.peakMiB.toFixed(0),
      'change p50/p99/max ms': `${ms(row.fanOutP50)} / ${ms(row.fanOutP99)} / ${ms(row.fanOutMax)}`,
      'all delivered': row.deliveredAll ? `yes, ${ms(row.fanOutSpanMs)} ms` : 'no',
      'CPU fan-out': `${(row.fanOutCpu * 100).toFixed(0)}%`,
      errors: row.errors,
    })),
  );
  console.log('\nSubscribe and unsubscribe churn, 100 connections');
  console.table(
    churnRows.map((row) => ({
      store: row.store,
      subscribed: row.subscribed,
      unsubscribed: row.unsubscribed,
      'subscribes/s': row.subscribeRate.toFixed(0),
      'first event p99 ms': ms(row.firstEventP99),
      'never answered': row.missing,
      errors: row.errors,
      CPU: `${(row.cpu * 100).toFixed(0)}%`,
    })),
  );
}
