import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { type Context, type GatewayServices, createContext, identify } from './context.ts';
import { LruReadCache } from './datasources/cache.ts';
import { HstockClient } from './datasources/hstock-client.ts';
import { LruIdempotencyStore } from './datasources/idempotency.ts';
import { renderGraphiQL, useGraphiQLAssets } from './graphiql.ts';
import { UpstreamHealth } from './health.ts';
import { type Logger, createLogger } from './logger.ts';
import { protections, useErrorLog, useStaleNotice } from './plugins.ts';
import { createSandbox } from './sandbox/index.ts';
import { schema } from './schema/index.ts';
import { PollHub } from './subscriptions/poll-hub.ts';
import { attachWebSocket, credentialsFrom } from './websocket.ts';

/** What Node gives Yoga: the HTTP pair, or for graphql-ws the upgrade request and connection_init payload. */
export type ServerContext = { req: IncomingMessage; res?: ServerResponse; connectionParams?: Record<string, unknown> };

export interface Gateway {
  yoga: YogaServerInstance<ServerContext, Context>;
  server: Server;
  services: GatewayServices;
  /** Listens on config.port (0: any free port) and resolves to the GraphQL URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

const REQUEST_ID = /^[\w.-]{1,64}$/;

export function createGateway(config: Config, logger: Logger = createLogger(config.logLevel)): Gateway {
  if (!config.upstreamUrl) throw new ConfigError('HSTOCK_API_URL must be set (main() starts a sandbox when it is not)');
  const health = new UpstreamHealth();
  const client = new HstockClient({
    url: config.upstreamUrl,
    timeoutMs: config.upstreamTimeoutMs,
    connections: config.upstreamConnections,
    onCall: (event) => {
      health.record(event);
      logger.debug({ upstream: event }, 'upstream call');
    },
  });
  const services: GatewayServices = {
    config,
    client,
    ttl: config.cacheTtlSeconds,
    cache: new LruReadCache({
      maxEntries: config.cacheMaxEntries,
      maxBytes: config.cacheMaxBytes,
      staleMaxSeconds: config.cacheStaleMaxSeconds,
    }),
    idempotency: new LruIdempotencyStore({
      ttlSeconds: config.idempotencyTtlSeconds,
      maxEntries: config.idempotencyMaxEntries,
    }),
    hub: new PollHub({ failureLimitMs: config.pollFailureLimitMs, perTenant: config.subscriptionsPerTenant }),
  };

  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    multipart: false,
    graphiql: { title: 'HstockPlus gateway', subscriptionsProtocol: 'WS' },
    renderGraphiQL,
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      error: (...args) => logger.error(args.map(String).join(' ')),
    },
    context: ({ request, res, connectionParams }) => {
      const requested = request?.headers.get('x-request-id') ?? '';
      const requestId = REQUEST_ID.test(requested) ? requested : randomUUID();
      if (res && !res.headersSent) res.setHeader('x-request-id', requestId);
      const credentials = request
        ? { authorization: request.headers.get('authorization'), apiKey: request.headers.get('x-api-key') }
        : credentialsFrom(connectionParams);
      return createContext(services, identify(credentials, config), requestId);
    },
    plugins: [
      ...protections(),
      useGraphiQLAssets(),
      useStaleNotice(),
      useErrorLog(logger),
      useReadinessCheck({ endpoint: '/ready', check: () => health.ready }),
    ],
  });

  const server = createServer((req, res) => {
    if (Number(req.headers['content-length'] ?? 0) > config.maxBodyBytes) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: `Request body over ${config.maxBodyBytes} bytes.`, extensions: { code: 'BAD_USER_INPUT' } }] }));
      return;
    }
    void yoga(req, res, { req, res });
  });
  const websocket = attachWebSocket(server, yoga, services);
  const connections = trackConnections(server);

  return {
    yoga,
    server,
    services,
    start: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          const { port } = server.address() as AddressInfo;
          resolve(`http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/graphql`);
        });
      }),
    stop: async () => {
      // No new connections; then every subscription completes and no new one starts. One turn of
      // the event loop lets those `complete` messages and SSE endings go out before sockets close.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      services.hub.close();
      await new Promise((resolve) => setImmediate(resolve));
      connections.drain(SHUTDOWN_GRACE_MS);
      await websocket.close(SHUTDOWN_GRACE_MS);
      await closed;
      await client.close();
    },
  };
}

/** How long in-flight requests may take to finish at shutdown before their sockets are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Node's closeIdleConnections leaves alone sockets that never sent a request (a browser's
 * preconnect, a client's spare connection), so server.close() would wait for them to time out.
 * This knows which sockets carry a request, so that shutdown closes the others at once and each
 * busy one as soon as its response is done.
 */
function trackConnections(server: Server) {
  const busy = new Map<Socket, number>();
  let draining = false;
  const settle = (socket: Socket) => {
    if (draining && !busy.get(socket)) socket.end();
  };
  server.on('connection', (socket: Socket) => {
    busy.set(socket, 0);
    socket.once('close', () => busy.delete(socket));
  });
  // An upgraded socket is the WebSocket server's to close, with a close frame.
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => busy.delete(socket));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    if (draining) res.setHeader('connection', 'close');
    const held = busy.get(socket);
    if (held === undefined) return;
    busy.set(socket, held + 1);
    res.once('close', () => {
      const left = busy.get(socket);
      if (left === undefined) return; // the socket closed first
      busy.set(socket, Math.max(0, left - 1));
      settle(socket);
    });
  });
  return {
    drain(graceMs: number) {
      draining = true;
      for (const socket of busy.keys()) settle(socket);
      setTimeout(() => server.closeAllConnections(), graceMs).unref();
    },
  };
}

function listenError(error: unknown, variable: string): never {
  if ((error as { code?: string }).code === 'EADDRINUSE') {
    console.error(`Port in use: set ${variable} to a free port (0 picks one).`);
    process.exit(1);
  }
  throw error;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`Configuration error: ${error.message}`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  let sandbox: Awaited<ReturnType<typeof createSandbox>> | undefined;
  if (!config.upstreamUrl) {
    sandbox = await createSandbox({ ...config.sandbox }).catch((error: unknown) => listenError(error, 'SANDBOX_PORT'));
    config = { ...config, upstreamUrl: sandbox.url, serverKey: 'sandbox-demo-key', allowAnonymous: true, host: '127.0.0.1' };
    logger.info(`HSTOCK_API_URL is not set: using the built-in sandbox at ${sandbox.url} with its demo key`);
  } else if (config.serverKey && config.allowAnonymous) {
    logger.warn('GATEWAY_ALLOW_ANONYMOUS=true: anyone who can reach this port can spend the supplier key');
  }
  const gateway = createGateway(config, logger);
  const url = await gateway.start().catch((error: unknown) => listenError(error, 'PORT'));
  logger.info(`GraphQL and GraphiQL at ${url}`);
  console.log(`\n  GraphiQL: ${url}\n`);

  const shutdown = async (signal: string) => {
    logger.info(`${signal}: shutting down`);
    await gateway.stop();
    await sandbox?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
