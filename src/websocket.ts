/**
 * graphql-ws (graphql-transport-ws) on the HTTP server's own path, run through Yoga's envelop so
 * that plugins, context, validation and error masking match HTTP exactly.
 */
import type { Server } from 'node:http';
import { type ExecutionArgs, GraphQLError, type execute, type subscribe } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import type { Config } from './config.ts';
import { type Context, type Credentials, identify } from './context.ts';
import type { ServerContext } from './server.ts';

export function credentialsFrom(params: Readonly<Record<string, unknown>> | undefined): Credentials {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return { authorization: text(params?.authorization) ?? text(params?.Authorization), apiKey: text(params?.apiKey) };
}

export function attachWebSocket(server: Server, yoga: YogaServerInstance<ServerContext, Context>, config: Config) {
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const active = new WeakMap<object, number>();

  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      onConnect: (ctx) => identify(credentialsFrom(ctx.connectionParams), config).ok,
      onSubscribe: async (ctx, _id, payload) => {
        const held = active.get(ctx.extra.socket) ?? 0;
        if (held >= config.subscriptionsPerConnection) {
          return [
            new GraphQLError(`At most ${config.subscriptionsPerConnection} subscriptions per connection are allowed.`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
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
        active.set(ctx.extra.socket, held + 1);
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
      onComplete: (ctx) => {
        active.set(ctx.extra.socket, Math.max(0, (active.get(ctx.extra.socket) ?? 1) - 1));
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
