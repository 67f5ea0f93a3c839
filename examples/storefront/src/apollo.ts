import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { ErrorLink } from '@apollo/client/link/error';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
import { gatewayUrl } from './gateway';
import { closedForbidden, tokenExpired, type Session } from './sign-in';

/** Apollo Client for one signed-in customer, as src/client.ts sets up urql; `onExpired` runs when the gateway says the token expired. */
export function gatewayApollo(session: Session, onExpired: () => void): ApolloClient {
  const authorization = `Bearer ${session.accessToken}`;
  const http = new HttpLink({ uri: gatewayUrl, headers: { authorization } });
  const ws = new GraphQLWsLink(
    createClient({
      url: gatewayUrl.replace(/^http/, 'ws'),
      connectionParams: { authorization },
      retryAttempts: Infinity, // close code 1012 (the gateway restarting): reconnect and resubscribe; 4403 (expired): never
      shouldRetry: (event) => !closedForbidden(event),
      on: {
        closed: (event) => {
          if (closedForbidden(event)) onExpired();
        },
      },
    }),
  );
  const expired = new ErrorLink(({ error }) => {
    if (CombinedGraphQLErrors.is(error) && tokenExpired(error.errors)) onExpired();
  });
  return new ApolloClient({
    link: ApolloLink.from([expired, ApolloLink.split((operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION, ws, http)]),
    cache: new InMemoryCache(),
  });
}
