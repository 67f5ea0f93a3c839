/**
 * graphql-ws (graphql-transport-ws) on the HTTP server's own path, run through Yoga's envelop so
 * that plugins, context, validation and error masking match HTTP exactly.
 */
import type { Server } from 'node:http';
import { type ExecutionArgs, GraphQLError, type execute, type subscribe } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { WebSocketServer } from 'ws';
import { type Context, type Credentials, type GatewayServices, identify } from './context.ts';
import { isGatewayError } from './datasources/errors.ts';
import type { ServerContext } from './server.ts';

/**
 * Credentials from a `connection_init` payload (`apiKey`, `authorization`) or from an operation's
 * `extensions.headers` (`Authorization`, `X-Api-Key`, as GraphiQL sends its header editor), with
 * names matched case-insensitively.
 */
export function credentialsFrom(params: unknown): Credentials {
  const named = new Map<string, string>();
  if (params && typeof params === 'object') {
    for (const [name, value] of Object.entries(params)) if (typeof value === 'string') named.set(name.toLowerCase(), value);
  }
  return { authorization: named.get('authorization'), apiKey: named.get('apikey') ?? named.get('x-api-key') };
}

const presents = (credentials: Credentials) => Boolean(credentials.authorization || credentials.apiKey);

export function attachWebSocket(server: Server, yoga: YogaServerInstance<ServerContext, Context>, services: GatewayServices) {
  const { config, client } = services;
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  /** Tenants whose key the supplier accepted lately: a reconnecting client does not cost a call. */
  const verified = new LRUCache<string, true>({ max: 10_000, ttl: 5 * 60_000 });

  /**
   * A connection that presents a key the gateway or the supplier rejects is closed with 4403
   * (Forbidden). One that presents none is accepted: each operation then needs its own
   * `extensions.headers`, or gets UNAUTHENTICATED exactly as an HTTP request without a key does.
   */
  async function admit(params: unknown): Promise<boolean> {
    const credentials = credentialsFrom(params);
    if (!presents(credentials)) return true;
    const identity = identify(credentials, config);
    if (!identity.ok) return false;
    if (config.serverKey !== undefined || verified.has(identity.tenant)) return true;
    try {
      await client.balance(identity.key);
    } catch (error) {
      // Only the supplier's own verdict refuses a key; an outage must not look like a bad key.
      return !isGatewayError(error, 'UNAUTHENTICATED');
    }
    verified.set(identity.tenant, true);
    return true;
  }

  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      onConnect: (ctx) => admit(ctx.connectionParams),
      onSubscribe: async (ctx, _id, payload) => {
        // ctx.subscriptions already holds this operation, so the count includes it.
        if (Object.keys(ctx.subscriptions).length > config.subscriptionsPerConnection) {
          return [
            new GraphQLError(`At most ${config.subscriptionsPerConnection} subscriptions per connection are allowed.`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        const connectionParams = presents(credentialsFrom(ctx.connectionParams))
          ? ctx.connectionParams
          : (payload.extensions?.headers as Record<string, unknown> | undefined);
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          connectionParams,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        let document: ReturnType<typeof parse>;
        try {
          document = parse(payload.query);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
      execute: (args: ExecutionArgs) => (args.rootValue as { execute: typeof execute }).execute(args),
      subscribe: (args: ExecutionArgs) => (args.rootValue as { subscribe: typeof subscribe }).subscribe(args),
    },
    wss,
  );

  return {
    /** Closes every socket (1001 Going Away) and the server. */
    close: async () => {
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
