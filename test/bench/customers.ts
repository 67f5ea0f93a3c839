/**
 * What a customer's JWT costs against a gateway token, side by side on one gateway: the cached
 * catalogue under load (alternating runs: static, JWT, JWT, static) and `order(id) { status }` one
 * request at a time, interleaved, each caller reading its own order. The token comes from the
 * sandbox's identity provider through its authorization code flow, as a storefront gets it.
 */
import { print } from 'graphql';
import { createIdentityProvider } from '../../src/sandbox/identity/index.ts';
import { createSandbox } from '../../src/sandbox/index.ts';
import { AddOrderDocument, CustomerCatalogueDocument, CustomerOrderDocument } from '../generated/graphql.ts';
import { startGateway } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { load } from './catalogue.ts';
import { percentile } from './latency.ts';

const ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3000);
const SHOP = 'bench-shop-secret';

async function post(url: string, token: string, body: string): Promise<{ data?: Record<string, { id: string }>; errors?: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  });
  return (await response.json()) as never;
}

export async function benchCustomers(): Promise<void> {
  const sandbox = await createSandbox({ port: 0, timeScale: 0 });
  const idp = await createIdentityProvider({ port: 0 });
  const gateway = await startGateway(sandbox, {
    HSTOCK_API_KEY: DEMO_KEY,
    GATEWAY_TOKENS: `shop:${SHOP}`,
    JWT_ISSUER: idp.issuer,
    JWT_AUDIENCE: idp.audience,
  });
  try {
    const tokens = { static: SHOP, jwt: (await idp.tokenFor('alice')).accessToken };
    const variants = ['static', 'jwt'] as const;
    const catalogue = JSON.stringify({ query: print(CustomerCatalogueDocument), variables: { first: 50 } });
    const runs = { static: [] as Array<Awaited<ReturnType<typeof load>>>, jwt: [] as Array<Awaited<ReturnType<typeof load>>> };
    for (const name of [...variants, ...[...variants].reverse()]) {
      runs[name].push(await load(gateway.url, catalogue, { authorization: `Bearer ${tokens[name]}` }));
    }

    const order = JSON.stringify({
      query: print(AddOrderDocument),
      variables: { input: { serviceId: '1001', quantity: 100, link: 'https://instagram.com/p/bench' } },
    });
    const bodies = { static: '', jwt: '' };
    for (const name of variants) {
      const placed = await post(gateway.url, tokens[name], order);
      if (!placed.data) throw new Error(`addOrder failed: ${JSON.stringify(placed.errors)}`);
      bodies[name] = JSON.stringify({ query: print(CustomerOrderDocument), variables: { id: placed.data.addOrder!.id } });
    }
    const timings = { static: [] as number[], jwt: [] as number[] };
    for (let round = -200; round < ROUNDS; round += 1) {
      for (const name of variants) {
        const started = performance.now();
        const answer = await post(gateway.url, tokens[name], bodies[name]);
        if (!answer.data) throw new Error(`order(id) failed: ${JSON.stringify(answer.errors)}`);
        if (round >= 0) timings[name].push(performance.now() - started);
      }
    }

    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const rows = variants.map((name) => {
      const sorted = timings[name].sort((a, b) => a - b);
      return {
        caller: name === 'jwt' ? "customer's JWT" : 'gateway token',
        'catalogue req/s': Math.round(mean(runs[name].map((run) => run.rps))),
        'catalogue p99 ms': mean(runs[name].map((run) => run.p99)),
        'catalogue errors': runs[name].reduce((sum, run) => sum + run.errors, 0),
        'order(id) p50 ms': Number(percentile(sorted, 50).toFixed(2)),
        'order(id) p99 ms': Number(percentile(sorted, 99).toFixed(2)),
      };
    });
    const [token, jwt] = rows as [(typeof rows)[number], (typeof rows)[number]];
    console.log(
      `\nCustomers: a JWT vs a gateway token on one gateway; the cached catalogue (2 runs each, alternating), order(id) over ${ROUNDS} interleaved rounds`,
    );
    console.table(rows);
    console.log(
      `JWT vs token: cached catalogue ${(jwt['catalogue req/s'] / token['catalogue req/s']).toFixed(2)} of the rate; ` +
        `order(id) ${(jwt['order(id) p50 ms'] - token['order(id) p50 ms']).toFixed(2)} ms at p50, ${(jwt['order(id) p99 ms'] - token['order(id) p99 ms']).toFixed(2)} ms at p99`,
    );
  } finally {
    await gateway.stop();
    await idp.close();
    await sandbox.close();
  }
}
