import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { authorization, gatewayUrl, headers } from './gateway';

const ws = createWsClient({
  url: gatewayUrl.replace(/^http/, 'ws'),
  connectionParams: authorization ? { authorization } : {},
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
