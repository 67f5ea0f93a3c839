/**
 * Catalogue read benchmark, side by side in one run: the same services page from a gateway with
 * the default cache, `{ __typename }` from that gateway (the framework's own floor), a bare
 * `node:http` server sending the gateway's exact response bytes from memory (the machine's
 * ceiling), and a gateway with the catalogue TTLs at 0 (every request to the supplier; concurrent
 * identical reads still share one call). The sandbox answers after a fixed latency, as a real
 * supplier would, and counts the upstream calls each run made.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { print } from 'graphql';
import { createSandbox } from '../../src/sandbox/index.ts';
import { ServicesPageDocument } from '../generated/graphql.ts';
import { sleep, startGateway } from '../support/bench.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { freePort } from '../support/ports.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const UPSTREAM_LATENCY_MS = Number(process.env.BENCH_UPSTREAM_LATENCY_MS ?? 50);

interface Row {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
  upstreamCalls: number;
}

export const catalogueBody = JSON.stringify({ query: print(ServicesPageDocument), variables: { first: 50, category: 'Instagram' } });

export async function load(
  url: string,
  body?: string,
  extraHeaders: Record<string, string> = {},
): Promise<Omit<Row, 'name' | 'upstreamCalls'>> {
  const options = body
    ? {
        url,
        method: 'POST' as const,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}`, ...extraHeaders },
        body,
        connections: CONNECTIONS,
      }
    : { url, method: 'GET' as const, headers: { authorization: `Bearer ${DEMO_KEY}` }, connections: CONNECTIONS };
  await autocannon({ ...options, duration: 1 }); // warm-up
  const result = await autocannon({ ...options, duration: DURATION_S });
  return {
    requests: result.requests.total,
    errors: result.errors + result.non2xx,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/** A bare node:http server, in its own process, answering every request with `bytes`. */
async function bareServer(bytes: string): Promise<{ url: string; stop(): void }> {
  const file = join(tmpdir(), `hstock-bench-${process.pid}.json`);
  writeFileSync(file, bytes);
  const port = await freePort();
  const script = `const body = require('fs').readFileSync(${JSON.stringify(file)});
require('http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'content-length': body.length }); res.end(body); }); }).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
  const url = `http://127.0.0.1:${port}/graphql`;
  while (
    !(await fetch(url, { method: 'POST', body: '{}' }).then(
      () => true,
      () => false,
    ))
  )
    await sleep(20);
  return { url, stop: () => void child.kill() };
}

export async function benchCatalogue(): Promise<void> {
  const sandbox = await createSandbox({ port: 0 });
  sandbox.setFaults({ latencyMs: UPSTREAM_LATENCY_MS });
  const rows: Row[] = [];
  const run = async (name: string, url: string, body?: string, headers?: Record<string, string>) => {
    sandbox.resetStats();
    const measured = await load(url, body, headers);
    rows.push({ name, ...measured, upstreamCalls: sandbox.stats().requests.services ?? 0 });
  };
  try {
    const cached = await startGateway(sandbox);
    let bytes: string;
    try {
      bytes = await (
        await fetch(cached.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
          body: catalogueBody,
        })
      ).text();
      await run('catalogue, cached (defaults)', cached.url, catalogueBody);
      const { query, variables } = JSON.parse(catalogueBody) as { query: string; variables: unknown };
      await run(
        'catalogue as a GET, cached answer',
        `${cached.url}?${new URLSearchParams({ query, variables: JSON.stringify(variables) })}`,
      );
      await run('{ __typename }, same gateway', cached.url, JSON.stringify({ query: '{ __typename }' }));
      // A browser page's request carries an Origin: CORS is Yoga's, so its cached answer comes through Yoga.
      await run('catalogue, cached, from a browser page', cached.url, catalogueBody, { origin: 'https://shop.example' });
    } finally {
      await cached.stop();
    }
    const bare = await bareServer(bytes);
    try {
      await run('bare node:http, same bytes', bare.url, catalogueBody);
    } finally {
      bare.stop();
    }
    const uncached = await startGateway(sandbox, { CACHE_TTL_SERVICES_S: '0', CACHE_TTL_CATEGORIES_S: '0' });
    try {
      await run('catalogue, uncached (TTL 0)', uncached.url, catalogueBody);
    } finally {
      await uncached.stop();
    }
  } finally {
    await sandbox.close();
  }
  const [catalogue, get, typename, browser, bare, uncached] = rows as [Row, Row, Row, Row, Row, Row];
  console.log(
    `\nCatalogue: services(first: 50), ${CONNECTIONS} connections for ${DURATION_S} s each, upstream latency ${UPSTREAM_LATENCY_MS} ms`,
  );
  console.table(
    rows.map((row) => ({
      variant: row.name,
      'req/s': row.rps.toFixed(0),
      'p50 ms': row.p50,
      'p99 ms': row.p99,
      requests: row.requests,
      errors: row.errors,
      'upstream calls': row.upstreamCalls,
    })),
  );
  console.log(
    `cached catalogue vs { __typename }: ${(catalogue.rps / typename.rps).toFixed(2)} (target >= 0.95), from a browser page ${(browser.rps / typename.rps).toFixed(2)}; ` +
      `vs bare node:http: ${(catalogue.rps / bare.rps).toFixed(2)}, as a GET ${(get.rps / bare.rps).toFixed(2)} (target >= 0.25); ` +
      `vs uncached: ${(catalogue.rps / uncached.rps).toFixed(1)}`,
  );
}
