import { print } from 'graphql';
import WebSocket from 'ws';
import { createSandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, OrderStatusDocument } from '../generated/graphql.ts';
import { graphql, sleep, startGateway } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { startRedis } from '../support/redis.ts';

const redis = process.env.PROBE_REDIS ? await startRedis() : undefined;
const sandbox = await createSandbox({ port: 0, timeScale: 0 });
const gateway = await startGateway(sandbox, {
  ORDER_POLL_MS: '1000', ORDER_POLL_MAX_MS: '1000', SUBSCRIPTIONS_PER_CONNECTION: '1000', SUBSCRIPTIONS_PER_TENANT: '1000000',
  SUBSCRIPTION_STARTS_PER_SECOND: '1000000', SUBSCRIPTION_STARTS_BURST: '1000000', ...(redis ? { REDIS_URL: redis.url } : {}),
});
const ids: string[] = [];
for (let n = 0; n < 1000; n += 20) ids.push(...(await Promise.all(Array.from({length: 20}, async () => (await graphql(gateway.url, AddOrderDocument, { input: { serviceId: '1001', quantity: 100, link: 'https://x.com/p' } })).addOrder.id))));
const total = Number(process.env.PROBE_SUBS ?? 20000);
let firsts = 0;
const sockets: WebSocket[] = [];
for (let c = 0; c < total / 100; c += 1) {
  const socket = new WebSocket(gateway.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  await new Promise((r) => socket.once('open', r));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: DEMO_KEY } }));
  await new Promise<void>((r) => socket.on('message', (d) => { const m = JSON.parse(String(d)); if (m.type === 'connection_ack') r(); else if (m.type === 'next') firsts++; }));
  sockets.push(socket);
}
console.log('rss before', gateway.rssMiB());
sockets.forEach((socket, c) => {
  for (let i = 0; i < 100; i += 1) { const n = c * 100 + i; socket.send(JSON.stringify({ id: String(n), type: 'subscribe', payload: { query: print(OrderStatusDocument), variables: { id: ids[n % 1000] } } })); }
});
await sleep(Number(process.env.PROBE_AT_MS ?? 300));
gateway.child.kill('SIGUSR2');
while (firsts < total) await sleep(100);
console.log('rss with', gateway.rssMiB());
await sleep(10000);
for (const s of sockets) s.close();
await gateway.stop(); await sandbox.close(); await redis?.close();
