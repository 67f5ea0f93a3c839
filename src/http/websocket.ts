/**
 * graphql-ws (graphql-transport-ws) on the HTTP server's own path, run through Yoga's envelop so
 * that plugins, context, validation and error masking match HTTP exactly.
 *
 * Not through `yoga.getResultForParams`, as Hive Gateway does: that runs an operation as one call
 * on a Request built for it, which would run the HTTP-only plugins (body limit, CSRF check, the
 * response cache, the access log) for every WebSocket operation and hand back the result with no
 * place between parse and execute. What a socket needs is exactly there: each operation's
 * credentials (connection_init, or `extensions.headers`) checked before it is parsed, the
 * per-connection count taken before a subscription starts, queries run in the socket's line
 * (limits/websocket.ts) and subscriptions at once, each filed under its socket for the 1012 at
 * shutdown. So the parameters go through the same document rule (documentOfOperation) and
 * envelop's parse, validate, context and execute, with those steps between them.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { getOperationAST, GraphQLError, type execute, type ExecutionArgs, type GraphQLFormattedError, type subscribe } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { isAsyncIterable, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { admitConnection, credentialsFrom, presents } from '../auth/authenticator.ts';
import { atExpiry } from '../auth/jwt.ts';
import type { OperationContext, ServerContext } from '../graphql/context.ts';
import { documentOfOperation } from '../graphql/persisted-documents.ts';
import { clientError, countLimits } from '../graphql/plugins/use-client-errors.ts';
import type { Line } from '../limits/line.ts';
import { clientAddress } from '../limits/requests.ts';
import { boundedSocket, queryLine, Unidentified, type BoundedSocket } from '../limits/websocket.ts';
import type { Runtime } from '../runtime.ts';
import { WrappedIterator } from '../subscriptions/wrapped-iterator.ts';

/** What one socket holds: operations being set up, the live subscriptions they became, and the line its queries wait in. */
interface SocketOperations {
  socket: BoundedSocket;
  starting: number;
  live: Set<AsyncIterableIterator<unknown>>;
  queries: Line;
}

/**
 * Wraps a subscription so the socket's set knows when it ends. graphql-ws forgets an operation as
 * soon as the client sends `complete`, even while it is still starting, so its own bookkeeping
 * cannot enforce a limit or find every subscription when the socket goes.
 */
class Tracked<T> extends WrappedIterator<T> {
  constructor(
    source: AsyncIterator<T>,
    private readonly live: Set<AsyncIterableIterator<unknown>>,
  ) {
    super(source);
    live.add(this);
  }

  async next(): Promise<IteratorResult<T>> {
    try {
      const result = await this.source.next();
      if (result.done) this.ended();
      return result;
    } catch (error) {
      this.ended();
      throw error;
    }
  }

  protected ended(): void {
    this.live.delete(this);
  }
}

/** Close code 1012 (Service Restart): graphql-ws clients reconnect, to another instance or this one's successor. */
const SERVICE_RESTART = 1012;

/** Close code 4429: the address failed credentials too often (AUTH_FAILURES_PER_MINUTE); graphql-ws clients do not retry on it by themselves. */
const AUTH_FAILURES = 4429;
/** graphql-ws's Forbidden: the socket's token expired; the client signs in again and resubscribes. */
const FORBIDDEN = 4403;

/** Sockets admitted with a JWT close when it expires (a timer per socket, gone with it). */
function closeAtExpiry(socket: WsSocket, expiresAt: number): void {
  const cancel = atExpiry(expiresAt, () => socket.close(FORBIDDEN, 'Token expired: sign in again'));
  socket.once('close', cancel);
}

export function attachWebSocket(
  server: Server,
  yoga: YogaServerInstance<ServerContext, OperationContext>,
  runtime: Runtime,
  accepting: () => boolean,
) {
  const { config, metrics } = runtime;
  const unidentified = new Unidentified(config.wsUnauthenticatedPerAddress);
  const addressOf = (request: IncomingMessage) => clientAddress(request, config.trustProxy);
  // Upgrades are handed over here rather than the WebSocket server listening on the HTTP server
  // itself, which would re-emit the HTTP server's listen errors (start()'s to report) as its own.
  const wss = new WebSocketServer({
    noServer: true,
    // A frame is read whole before anything looks at it, credentials included: no bigger than a body.
    maxPayload: config.maxBodyBytes,
    WebSocket: boundedSocket(config.wsMaxPendingBytes, () => metrics.rateLimited.inc({ reason: 'NOT_READING' })),
    verifyClient: ({ req }, done) => {
      if (!accepting()) return done(false, 503, 'Service Unavailable', { 'retry-after': '2' });
      // Refused before the socket exists: a refusal costs less than the connection would.
      if (unidentified.full(addressOf(req))) {
        metrics.rateLimited.inc({ reason: 'UNAUTHENTICATED_CONNECTIONS' });
        return done(false, 429, 'Too Many Requests', { 'retry-after': String(Math.ceil(config.wsInitTimeoutMs / 1000)) });
      }
      done(true);
    },
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://gateway').pathname !== yoga.graphqlEndpoint) return void socket.destroy();
    wss.handleUpgrade(request, socket, head, (client) => {
      unidentified.hold(client, addressOf(request));
      client.once('close', () => unidentified.release(client));
      wss.emit('connection', client, request);
    });
  });
  const sockets = new WeakMap<object, SocketOperations>();
  const operationsOf = (socket: BoundedSocket) => {
    let operations = sockets.get(socket);
    if (!operations) sockets.set(socket, (operations = { socket, starting: 0, live: new Set(), queries: queryLine() }));
    return operations;
  };
  const disposable = useServer<Record<string, unknown> | undefined>(
    {
      connectionInitWaitTimeout: config.wsInitTimeoutMs,
      onConnect: async (ctx) => {
        const { socket, request } = ctx.extra;
        const credentials = credentialsFrom(ctx.connectionParams);
        await runtime.auth.prepare(credentials);
        const identity = runtime.auth.identify(credentials);
        const failing = presents(credentials) ? runtime.authFailures.wait(identity, request) : 0;
        if (failing > 0) {
          metrics.rateLimited.inc({ reason: 'AUTH_FAILURES' });
          socket.close(AUTH_FAILURES, `Too many failing credentials from this address: retry in ${Math.ceil(failing / 1000)} s`);
          return false;
        }
        const admitted = await admitConnection(ctx.connectionParams, runtime.auth, runtime.keyCheck);
        if (!admitted) runtime.authFailures.charge(request);
        else if (identity.ok) unidentified.release(socket);
        if (admitted && identity.ok && identity.customer)
          closeAtExpiry(socket, identity.customer.expiresAt + (config.jwt?.clockToleranceS ?? 0) * 1000);
        return admitted;
      },
      onSubscribe: async (ctx, _id, payload) => {
        // A socket whose client stopped reading runs nothing more.
        if ((ctx.extra.socket as BoundedSocket).notReading()) return closing().errors;
        const connectionParams = presents(credentialsFrom(ctx.connectionParams))
          ? ctx.connectionParams
          : (payload.extensions?.headers as Record<string, unknown> | undefined);
        await runtime.auth.prepare(credentialsFrom(connectionParams));
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          connectionParams,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
        });
        const text = documentOfOperation(payload, config.persistedDocuments, config.persistedDocumentsOnly);
        if (text instanceof GraphQLError) return [text];
        let document: ReturnType<typeof parse>;
        try {
          document = parse(text);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        if (!getOperationAST(document, payload.operationName)) {
          return [
            new GraphQLError('Unable to identify the operation: name it with operationName.', { extensions: { code: 'BAD_USER_INPUT' } }),
          ];
        }
        const contextValue = await contextFactory();
        // From here to the operation's start nothing awaits, so the count cannot be raced.
        const operations = operationsOf(ctx.extra.socket as BoundedSocket);
        if (operations.starting + operations.live.size >= config.subscriptionsPerConnection) {
          return [
            new GraphQLError(`At most ${config.subscriptionsPerConnection} subscriptions per connection are allowed.`, {
              extensions: { code: 'RATE_LIMITED', reason: 'SUBSCRIPTIONS_PER_CONNECTION' },
            }),
          ];
        }
        operations.starting += 1;
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe, operations },
        };
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return undefined;
        countLimits(result.errors, runtime.metrics);
        return { ...result, errors: result.errors.map(forSocket) };
      },
      onError: (_ctx, _id, _payload, errors) => {
        countLimits(errors, runtime.metrics);
        return errors.map(forSocket);
      },
      execute: (args: ExecutionArgs) => run(args, 'execute'),
      subscribe: (args: ExecutionArgs) => run(args, 'subscribe'),
      // However the socket goes, every subscription it started ends with it.
      onClose: async (ctx) => {
        const operations = sockets.get(ctx.extra.socket);
        if (operations) await Promise.all([...operations.live].map((live) => live.return?.()));
      },
    },
    wss,
  );

  return {
    /**
     * Closes every socket with 1012 (Service Restart), so that clients resubscribe elsewhere and
     * none takes the end of a subscription for a final state; sockets that do not answer the
     * close within graceMs are cut.
     */
    close: async (graceMs: number) => {
      const cut = setTimeout(() => {
        for (const socket of wss.clients) socket.terminate();
      }, graceMs);
      try {
        const gone = [...wss.clients].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
        for (const socket of wss.clients) socket.close(SERVICE_RESTART, 'Service Restart');
        await Promise.all(gone);
        await disposable.dispose();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      } finally {
        clearTimeout(cut);
      }
    },
  };
}

/** The same error a client gets over HTTP, less the HTTP hints (status, headers) that mean nothing here. */
function forSocket(error: GraphQLError): GraphQLFormattedError {
  const formatted = clientError(error).toJSON();
  const { http: _http, ...extensions } = formatted.extensions ?? {};
  return { ...formatted, extensions };
}

interface Root {
  execute: typeof execute;
  subscribe: typeof subscribe;
  operations: SocketOperations;
}

const closing = () => ({ errors: [new GraphQLError('The connection is closing.')] });

/**
 * Runs an operation prepared by onSubscribe: a query or mutation in its socket's line, unless the
 * socket closed while it waited; a subscription at once, filed under its socket.
 */
async function run(args: ExecutionArgs, kind: 'execute' | 'subscribe') {
  const root = args.rootValue as Root;
  const { socket, queries, live } = root.operations;
  try {
    const result =
      kind === 'subscribe'
        ? await root.subscribe(args)
        : await queries.run(async () => (socket.notReading() ? closing() : root.execute(args)));
    return isAsyncIterable(result) ? new Tracked(result[Symbol.asyncIterator](), live) : result;
  } finally {
    root.operations.starting -= 1;
  }
}
