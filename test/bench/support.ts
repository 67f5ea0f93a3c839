/** Shared by the benchmarks: a gateway in its own process in front of an in-process sandbox. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { Sandbox } from '../../src/sandbox/index.ts';

export const KEY = 'sandbox-demo-key';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  /** Resident memory of the gateway process, in MiB. */
  rssMiB(): number;
  stop(): Promise<void>;
}

/** Runs `src/server.ts` as `npm start` would, against `sandbox`, with extra environment. */
export async function startGateway(sandbox: Sandbox, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'warn', HSTOCK_API_URL: sandbox.url, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  for await (const chunk of child.stdout!) {
    stdout += String(chunk);
    const url = /GraphiQL: (\S+)/.exec(stdout)?.[1];
    if (!url) continue;
    child.stdout!.resume();
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
  throw new Error('the gateway exited before printing its URL');
}

export async function graphql<T, V>(url: string, document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`request failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}
