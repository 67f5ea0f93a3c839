import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';

const url = 'http://127.0.0.1:4000/graphql';
const token: string | undefined = import.meta.env.VITE_GATEWAY_TOKEN;
const authorization = token ? `Bearer ${token}` : undefined;

const http = new HttpLink({ uri: url, headers: authorization ? { authorization } : {} });
const ws = new GraphQLWsLink(
  createClient({
    url: url.replace(/^http/, 'ws'),
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: Infinity, // close code 1012 (the gateway restarting): reconnect and resubscribe
    shouldRetry: () => true,
  }),
);

export const apollo = new ApolloClient({
  link: ApolloLink.split((operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION, ws, http),
  // Money has no id: keep it inside its order. Catalogue pages merge by cursor only if you ask.
  cache: new InMemoryCache({ typePolicies: { Money: { keyFields: false } } }),
});
