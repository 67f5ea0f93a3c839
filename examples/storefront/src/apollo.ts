import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
import { authorization, gatewayUrl, headers } from './gateway';

const http = new HttpLink({ uri: gatewayUrl, headers });
const ws = new GraphQLWsLink(
  createClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: Infinity, // close code 1012 (the gateway restarting): reconnect and resubscribe
    shouldRetry: () => true,
  }),
);

export const apollo = new ApolloClient({
  link: ApolloLink.split((operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION, ws, http),
  // Money has no id: keep it inside the object that holds it.
  cache: new InMemoryCache({ typePolicies: { Money: { keyFields: false } } }),
});
