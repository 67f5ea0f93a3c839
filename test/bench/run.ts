/**
 * `npm run bench` runs every benchmark; `npm run bench -- subscriptions` (or `catalogue`) one.
 * Each compares variants side by side in one run, on this machine, against the sandbox.
 */
import { benchCatalogue } from './catalogue.ts';
import { benchCluster } from './cluster.ts';
import { benchCustomers } from './customers.ts';
import { benchFanout } from './fanout.ts';
import { benchFollow } from './follow.ts';
import { benchHeap } from './heap.ts';
import { benchLatency } from './latency.ts';
import { benchParse } from './parse.ts';
import { benchStatuses } from './statuses.ts';
import { benchSubscriptionMemory, benchSubscriptions } from './subscriptions.ts';
import { benchTracing } from './tracing.ts';

const benches: Record<string, () => Promise<void>> = {
  catalogue: () => benchCatalogue(),
  subscriptions: () => benchSubscriptions((process.env.BENCH_WATCHERS ?? '1,100,1000,5000').split(',').map(Number)),
  latency: () => benchLatency(),
  memory: () => benchSubscriptionMemory(10_000, 1_000),
  cluster: () => benchCluster(),
  parse: async () => benchParse(),
  tracing: () => benchTracing(),
  statuses: () => benchStatuses(),
  customers: () => benchCustomers(),
  follow: () => benchFollow(),
  heap: () => benchHeap(),
  fanout: () => benchFanout((process.env.BENCH_FANOUT ?? '10000,100000').split(',').filter(Boolean).map(Number)),
};

const chosen = process.argv.slice(2);
for (const name of chosen) if (!(name in benches)) throw new Error(`Unknown benchmark "${name}": ${Object.keys(benches).join(', ')}`);
for (const name of chosen.length > 0 ? chosen : Object.keys(benches)) await benches[name]!();
