/** Real subscription clients for tests: graphql-ws over WebSocket, graphql-sse over SSE. */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { DEMO_KEY } from './keys.ts';

export function wsClient(httpUrl: string, connectionParams: Record<string, unknown> = { apiKey: DEMO_KEY }): Client {
  return createClient({ url: httpUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

/** Collects every payload until the server completes the subscription (or it errors). */
export async function collectWs<T, V extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<T, V>,
  variables: V,
  onEvent: (event: ExecutionResult<T>) => void = () => {},
): Promise<Array<ExecutionResult<T>>> {
  const events: Array<ExecutionResult<T>> = [];
  for await (const event of client.iterate({ query: print(document), variables })) {
    events.push(event as ExecutionResult<T>);
    onEvent(event as ExecutionResult<T>);
  }
  return events;
}

/**
 * An SSE subscription on a connection of its own, as Yoga serves it (graphql-sse's distinct
 * connections mode); resolves with every `next` payload when the server completes.
 */
export async function collectSse<T, V extends Record<string, unknown>>(
  httpUrl: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
  { key = DEMO_KEY, signal, onEvent }: { key?: string; signal?: AbortSignal; onEvent?: (event: ExecutionResult<T>) => void } = {},
): Promise<Array<ExecutionResult<T>>> {
  const client = createSseClient({
    url: httpUrl,
    singleConnection: false,
    headers: { authorization: `Bearer ${key}` },
    retryAttempts: 0,
    // `signal` ends the request, and the collection with an error, as it would a plain fetch.
    fetchFn: (url: string, init: RequestInit) =>
      fetch(url, { ...init, signal: signal ? AbortSignal.any([init.signal!, signal]) : init.signal }),
  });
  const events: Array<ExecutionResult<T>> = [];
  for await (const event of client.iterate<T, Record<string, unknown>>({ query: print(document), variables })) {
    events.push(event);
    onEvent?.(event);
  }
  return events;
}
