import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';

/** The gateway: `?gateway=` on the page, else VITE_GATEWAY_URL at build time, else a local `npm start`. */
export const gatewayUrl =
  new URLSearchParams(location.search).get('gateway') ?? import.meta.env.VITE_GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';

/** A gateway token (server-key mode) or supplier key (pass-through); `npm start` on the sandbox needs none. */
const token: string | undefined = import.meta.env.VITE_GATEWAY_TOKEN;
const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};

const ws = createWsClient({
  url: gatewayUrl.replace(/^http/, 'ws'),
  connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  // Close code 1012 means the gateway restarted (a deploy): reconnect, and graphql-ws subscribes
  // again; the first event after that is the current state.
  retryAttempts: Infinity,
  shouldRetry: () => true,
});

export const client = new Client({
  url: gatewayUrl,
  // urql sends short queries as GET; the gateway takes a GET only with an Authorization or
  // X-GraphQL-Yoga-CSRF header (CSRF protection), which anonymous callers do not send.
  preferGetMethod: false,
  fetchOptions: () => ({ headers }),
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
      }),
    }),
  ],
});
