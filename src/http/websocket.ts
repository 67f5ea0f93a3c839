/**
 * graphql-ws (graphql-transport-ws) on the HTTP server's own path: the WebSocket server, who may
 * connect, and how sockets end. The protocol of one socket is ws-connection.ts.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { handleProtocols } from 'graphql-ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { admitConnection, credentialsFrom, presents } from '../auth/authenticator.ts';
import { atExpiry } from '../auth/jwt.ts';
import type { OperationContext, ServerContext } from '../graphql/context.ts';
import { clientAddress } from '../limits/requests.ts';
import { boundedSocket, Unidentified, type BoundedSocket } from '../limits/websocket.ts';
import type { Logger } from '../observability/logger.ts';
import type { Runtime } from '../runtime.ts';
import { Connection } from './ws-connection.ts';

/** Close code 1012 (Service Restart): graphql-ws clients reconnect, to another instance or this one's successor. */
const SERVICE_RESTART = 1012;

/** Close code 4429: the address failed credentials too often (AUTH_FAILURES_PER_MINUTE); graphql-ws clients do not retry on it by themselves. */
const AUTH_FAILURES = 4429;
/** graphql-ws's Forbidden: the socket's token expired; the client signs in again and resubscribes. */
const FORBIDDEN = 4403;

/** How often every socket is pinged; one that has not answered the previous ping by then is cut. */
const KEEP_ALIVE_MS = 12_000;

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
  logger: Logger,
) {
  const { config, metrics } = runtime;
  const unidentified = new Unidentified(config.wsUnauthenticatedPerAddress);
  const addressOf = (request: IncomingMessage) => clientAddress(request, config.trustProxy);
  // Upgrades are handed over here rather than the WebSocket server listening on the HTTP server
  // itself, which would re-emit the HTTP server's listen errors (start()'s to report) as its own.
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols,
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
  wss.on('error', (error) => logger.error({ err: error }, 'WebSocket server failed'));
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://gateway').pathname !== yoga.graphqlEndpoint) return void socket.destroy();
    wss.handleUpgrade(request, socket, head, (client) => {
      unidentified.hold(client, addressOf(request));
      client.once('close', () => unidentified.release(client));
      wss.emit('connection', client, request);
    });
  });

  /** connection_init: credentials checked (and failures counted per address) before the ack. */
  const admit = async (connection: Connection): Promise<boolean> => {
    const { socket, request, connectionParams } = connection;
    const credentials = credentialsFrom(connectionParams);
    await runtime.auth.prepare(credentials);
    const identity = runtime.auth.identify(credentials);
    const failing = presents(credentials) ? runtime.authFailures.wait(identity, request) : 0;
    if (failing > 0) {
      metrics.rateLimited.inc({ reason: 'AUTH_FAILURES' });
      socket.close(AUTH_FAILURES, `Too many failing credentials from this address: retry in ${Math.ceil(failing / 1000)} s`);
      return false;
    }
    const admitted = await admitConnection(connectionParams, runtime.auth, runtime.keyCheck);
    if (!admitted) runtime.authFailures.charge(request);
    else if (identity.ok) unidentified.release(socket);
    if (admitted && identity.ok && identity.customer)
      closeAtExpiry(socket, identity.customer.expiresAt + (config.jwt?.clockToleranceS ?? 0) * 1000);
    return admitted;
  };

  const connections = new Map<WsSocket, Connection>();
  wss.on('connection', (socket: BoundedSocket, request: IncomingMessage) => {
    const connection = new Connection(socket, request, { yoga, runtime, logger, admit });
    connections.set(socket, connection);
    socket.once('close', () => {
      connections.delete(socket);
      connection.closed();
    });
  });

  // One timer for every socket: each is pinged, and one that did not answer the last ping is cut.
  const keepAlive = setInterval(() => {
    for (const connection of connections.values()) connection.keepAlive();
  }, KEEP_ALIVE_MS);
  keepAlive.unref();

  return {
    /**
     * Closes every socket with 1012 (Service Restart), so that clients resubscribe elsewhere and
     * none takes the end of a subscription for a final state; sockets that do not answer the
     * close within graceMs are cut.
     */
    close: async (graceMs: number) => {
      clearInterval(keepAlive);
      const cut = setTimeout(() => {
        for (const socket of wss.clients) socket.terminate();
      }, graceMs);
      try {
        const gone = [...wss.clients].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
        for (const socket of wss.clients) socket.close(SERVICE_RESTART, 'Service Restart');
        await Promise.all(gone);
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
