/** Shared by the benchmarks: a gateway in its own process in front of an in-process sandbox. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY } from './keys.ts';
import { freePort } from './ports.ts';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Resident memory of the gateway process, in MiB. */
  rssMiB(): number;
  stop(): Promise<void>;
}

let built: Promise<void> | undefined;

/**
 * Runs the compiled gateway (`dist/main.js`, built when stale, as `npm start` runs it) against `sandbox`, with extra environment, on a port of its own; ready
 * once `/health` answers. Request limits are lifted: a benchmark is one tenant at full speed.
 */
export async function startGateway(sandbox: Sandbox, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const port = await freePort();
  built ??= new Promise((resolve, reject) => {
    const build = spawn(process.execPath, ['scripts/build-if-stale.mjs'], { stdio: 'inherit' });
    build.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the build failed (${code})`))));
  });
  await built;
  // BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the gateway under any benchmark.
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...flags, 'dist/main.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      HSTOCK_API_URL: sandbox.url,
      RATE_LIMIT_PER_SECOND: '1000000',
      RATE_LIMIT_BURST: '1000000',
      READY_PROBE_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  for (const giveUp = Date.now() + 30_000; ; await sleep(50)) {
    if (child.exitCode !== null) throw new Error('the gateway exited before it answered');
    if (Date.now() > giveUp) throw new Error('the gateway did not answer /health within 30 s');
    if (
      await fetch(new URL('/health', url)).then(
        (response) => response.ok,
        () => false,
      )
    )
      break;
  }
  return {
    child,
    url,
    rssMiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function graphql<T, V>(url: string, document: TypedDocumentNode<T, V>, variables: V, key = DEMO_KEY): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`request failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}
