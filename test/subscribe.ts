/** Real subscription clients for tests: graphql-ws over WebSocket, and SSE read with fetch. */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type ExecutionResult, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export function wsClient(httpUrl: string, connectionParams: Record<string, unknown> = { apiKey: 'sandbox-demo-key' }): Client {
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

/** An SSE subscription read by fetch; resolves with every `next` payload when the stream completes. */
export async function collectSse<T, V extends Record<string, unknown>>(
  httpUrl: string,
  document: TypedDocumentNode<T, V>,
  variables: V,
  options: { key?: string; signal?: AbortSignal; onEvent?: (event: ExecutionResult<T>) => void } = {},
): Promise<Array<ExecutionResult<T>>> {
  const response = await fetch(httpUrl, {
    method: 'POST',
    signal: options.signal,
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${options.key ?? 'sandbox-demo-key'}`,
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const events: Array<ExecutionResult<T>> = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = response.body!.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const type = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (type === 'complete') {
        await reader.cancel();
        return events;
      }
      if (type === 'next' && data) {
        const event = JSON.parse(data) as ExecutionResult<T>;
        events.push(event);
        options.onEvent?.(event);
      }
    }
  }
  return events;
}
