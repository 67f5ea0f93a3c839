/**
 * Catalogue read benchmark: autocannon posts the same services page to two gateway processes side
 * by side, one with the default cache and one with the catalogue TTLs at 0 (every request goes to
 * the supplier; concurrent identical reads still share one call). The sandbox answers after a fixed
 * latency, as a real supplier would, and counts the upstream calls each run made.
 */
import autocannon from 'autocannon';
import { print } from 'graphql';
import { createSandbox } from '../../src/sandbox/index.ts';
import { ServicesPageDocument } from '../generated/graphql.ts';
import { KEY, startGateway } from './support.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = 20;
const UPSTREAM_LATENCY_MS = Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 50);

interface Row {
  gateway: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  upstreamCalls: number;
}

export async function benchCatalogue(): Promise<void> {
  const sandbox = await createSandbox({ port: 0 });
  sandbox.setFaults({ latencyMs: UPSTREAM_LATENCY_MS });
  const variants: Array<{ name: string; env: Record<string, string> }> = [
    { name: 'cached (defaults)', env: {} },
    { name: 'uncached (TTL 0)', env: { CACHE_TTL_SERVICES_S: '0', CACHE_TTL_CATEGORIES_S: '0' } },
  ];
  const rows: Row[] = [];
  try {
    for (const variant of variants) {
      const gateway = await startGateway(sandbox, variant.env);
      try {
        const body = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 50, category: 'Instagram' } });
        const options = {
          url: gateway.url,
          method: 'POST' as const,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          body,
          connections: CONNECTIONS,
        };
        await autocannon({ ...options, duration: 1 }); // warm-up
        sandbox.resetStats();
        const result = await autocannon({ ...options, duration: DURATION_S });
        rows.push({
          gateway: variant.name,
          requests: result.requests.total,
          errors: result.errors + result.non2xx,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          upstreamCalls: sandbox.stats().requests.services ?? 0,
        });
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    await sandbox.close();
  }
  const uncached = rows[1]!;
  console.log(
    `\nCatalogue: services(first: 50), ${CONNECTIONS} connections for ${DURATION_S} s each, upstream latency ${UPSTREAM_LATENCY_MS} ms`,
  );
  console.table(
    rows.map((row) => ({
      gateway: row.gateway,
      'req/s': row.rps.toFixed(0),
      'vs uncached': (row.rps / uncached.rps).toFixed(1),
      'p50 ms': row.p50,
      'p99 ms': row.p99,
      requests: row.requests,
      errors: row.errors,
      'upstream calls': row.upstreamCalls,
      'calls per 1000 requests': ((row.upstreamCalls * 1000) / Math.max(1, row.requests)).toFixed(2),
    })),
  );
}
