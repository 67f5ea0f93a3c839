import { cacheExchange, Client, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { gatewayUrl } from './gateway';
import { closedForbidden, tokenExpired, type Session } from './sign-in';

/**
 * The gateway for one signed-in customer: the token as `Authorization` over HTTP and in
 * `connection_init` over WebSocket. When the gateway says it expired, `onExpired` runs: the customer
 * signs in again.
 */
export function gatewayClient(session: Session, onExpired: () => void): Client {
  const authorization = `Bearer ${session.accessToken}`;
  const ws = createWsClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    connectionParams: { authorization },
    // Close code 1012 means the gateway restarted (a deploy): reconnect, and graphql-ws subscribes
    // again; the first event after that is the current state. 4403: the token expired, and
    // reconnecting with it cannot help.
    retryAttempts: Infinity,
    shouldRetry: (event) => !closedForbidden(event),
    on: {
      closed: (event) => {
        if (closedForbidden(event)) onExpired();
      },
    },
  });
  return new Client({
    url: gatewayUrl,
    fetchOptions: { headers: { authorization } },
    exchanges: [
      cacheExchange,
      mapExchange({
        onError: (error) => {
          if (tokenExpired(error.graphQLErrors)) onExpired();
        },
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription: (request) => ({
          subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
        }),
      }),
    ],
  });
}
