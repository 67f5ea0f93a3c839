/**
 * Real servers on loopback for tests: a sandbox as the upstream and the gateway in front of it,
 * both on ephemeral ports. Requests go over HTTP exactly as a frontend's would.
 */
import { Writable } from 'node:stream';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { loadConfig, type Config } from '../../src/config.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { createSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.ts';
import { AddOrderDocument, ServicesPageDocument } from '../generated/graphql.ts';
import { DEMO_KEY } from './keys.ts';

export interface GraphQLResponse<T> extends ExecutionResult<T> {
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }> & ExecutionResult['errors'];
}

export interface Harness {
  sandbox: Sandbox;
  gateway: Gateway;
  url: string;
  /** A GraphQL request; `key` goes as `Authorization: Bearer` (null sends none). */
  request<T, V extends Record<string, unknown>>(
    document: TypedDocumentNode<T, V>,
    variables?: V,
    options?: { key?: string | null; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  /** Places an order for the first Instagram (SMM) service at its minimum quantity; resolves to its id. */
  placeOrder(options?: { key?: string | null }): Promise<string>;
  /** Upstream calls per action since the last reset, from the sandbox's own counter. */
  calls(action?: string): number;
  close(): Promise<void>;
}

export interface HarnessOptions {
  config?: Partial<Config>;
  sandbox?: SandboxOptions;
  /** A sandbox already running (another gateway's): this harness uses it and leaves it running. */
  upstream?: Sandbox;
  /** Where the gateway logs; silent by default. */
  logger?: Logger;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const sandbox = options.upstream ?? (await createSandbox({ port: 0, ...options.sandbox }));
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    logLevel: 'silent',
    // The readiness probe would add calls to every count the tests make; its own tests turn it on.
    readyProbeMs: 0,
    upstreamUrl: sandbox.url,
    ...options.config,
  };
  const gateway = createGateway(config, options.logger ?? createLogger('silent'));
  const url = await gateway.start();
  const harness: Harness = {
    sandbox,
    gateway,
    url,
    async request(document, variables, { key = DEMO_KEY, headers = {} } = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(key === null ? {} : { authorization: `Bearer ${key}` }),
          ...headers,
        },
        body: JSON.stringify({ query: print(document), variables }),
      });
      return (await response.json()) as GraphQLResponse<never>;
    },
    async placeOrder({ key = DEMO_KEY } = {}) {
      const page = await harness.request(ServicesPageDocument, { first: 1, category: 'Instagram' }, { key });
      const service = page.data!.services.edges[0]!.node;
      const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/test' };
      const placed = await harness.request(AddOrderDocument, { input }, { key });
      if (!placed.data) throw new Error(`addOrder failed: ${JSON.stringify(placed.errors)}`);
      return placed.data.addOrder.id;
    },
    calls(action) {
      const { requests } = sandbox.stats();
      if (action) return requests[action] ?? 0;
      return Object.values(requests).reduce((sum, count) => sum + count, 0);
    },
    async close() {
      await gateway.stop();
      if (!options.upstream) await sandbox.close();
    },
  };
  return harness;
}

/** The error codes of a response, in order. */
export const codes = (response: GraphQLResponse<unknown>) => (response.errors ?? []).map((error) => error.extensions?.code);

/** A logger whose JSON lines a test can read. */
/** A request rate no test that places a hundred orders meets: the rate's own tests set theirs. */
export const MANY_REQUESTS = { perSecond: 10_000, burst: 10_000 };

export function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}
