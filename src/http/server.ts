/**
 * The HTTP side: the server with its slow-client timeouts, the operational endpoints answered
 * before Yoga (and on METRICS_PORT when set), and draining.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessLog, type AccessLog } from '../observability/access-log.ts';
import type { Logger } from '../observability/logger.ts';
import { tracedRequests } from '../observability/tracing.ts';
import type { Runtime } from '../runtime.ts';
import { answerFromCache } from './cached-answers.ts';
import { trackConnections } from './drain.ts';
import { operationalRoutes } from './operational.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.ts';

/**
 * Slow clients hold a socket only so long: for their headers, and for the whole request with its
 * body; the timeouts are checked every second rather than Node's default 30 s.
 */
function createHttpServer(config: { httpHeadersTimeoutMs: number; httpRequestTimeoutMs: number }): Server {
  return createServer({
    headersTimeout: config.httpHeadersTimeoutMs,
    requestTimeout: config.httpRequestTimeoutMs,
    connectionsCheckingInterval: 1000,
  });
}

/** How long the rest of a refused body is read and thrown away, so that its client reads the 413. */
const LINGER_MS = 3000;

/**
 * A body announced over the limit is answered 413 before a byte of it is read. Closing the socket
 * at once while the client is still sending resets it, and the client may never read the answer;
 * as nginx's lingering close does, the answer is written whole, the rest of the body is read and
 * thrown away, and the response (with its Connection: close) ends when the body has, or after
 * LINGER_MS at the latest.
 */
function refuseAnnouncedBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, log: AccessLog): void {
  const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined);
  const body = JSON.stringify({ errors: [{ message: `Request body over ${maxBytes} bytes.`, extensions: { code: 'BAD_USER_INPUT' } }] });
  res.writeHead(413, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
    [REQUEST_ID_HEADER]: requestId,
  });
  res.write(body);
  const end = () => {
    clearTimeout(deadline);
    if (!res.writableEnded) res.end();
  };
  const deadline = setTimeout(end, LINGER_MS);
  req.once('end', end).once('error', end).once('close', end).resume();
  log({ requestId, method: req.method, path: req.url?.split('?')[0], status: 413, durationMs: 0, supplierCalls: 0 });
}

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function createHttp(runtime: Runtime, yoga: RequestListener, logger: Logger) {
  const { config, health, state } = runtime;
  const log = accessLog(logger);
  const cached = answerFromCache(
    runtime.auth,
    runtime.responseCache,
    runtime.tenantRate,
    log,
    {
      maxBodyBytes: config.maxBodyBytes,
      documents: config.persistedDocuments,
      only: config.persistedDocumentsOnly,
    },
    runtime.metrics.countCacheAnswer,
  );
  /** A customer's token not verified lately is verified first; any other request waits for nothing here. */
  const answer = async (req: IncomingMessage, res: ServerResponse) => {
    const preparing = runtime.auth.prepare({ authorization: req.headers.authorization, apiKey: header(req, 'x-api-key') });
    if (preparing) await preparing;
    return (await cached(req, res)) || yoga(req, res);
  };
  const handler: RequestListener = (req, res) =>
    Number(req.headers['content-length']) > config.maxBodyBytes
      ? refuseAnnouncedBody(req, res, config.maxBodyBytes, log)
      : void answer(req, res).catch((error: unknown) => {
          // Never an unhandled rejection: that would end the process for every caller.
          logger.error({ err: error }, 'request failed outside GraphQL');
          if (!res.headersSent)
            res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }));
          else res.destroy();
        });
  const server = createHttpServer(config);
  const connections = trackConnections(server);
  const draining = () => connections.draining;
  const metrics = config.metrics ? runtime.metrics : undefined;
  const separate = metrics && config.metricsPort !== undefined ? createHttpServer(config) : undefined;
  const operational = operationalRoutes(health, state, draining, separate ? undefined : metrics);
  const gated = connections.gate(runtime.tracing ? tracedRequests(handler) : handler);
  server.on('request', (req, res) => operational(req, res) || gated(req, res));
  separate?.on('request', operationalRoutes(health, state, draining, metrics));
  return {
    server,
    connections,
    /** Listens on PORT (and METRICS_PORT) and resolves to the GraphQL URL. */
    async listen(): Promise<string> {
      await once(server.listen(config.port, config.host), 'listening');
      if (separate) await once(separate.listen(config.metricsPort, config.host), 'listening');
      const { port } = server.address() as AddressInfo;
      return `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}/graphql`;
    },
    metricsAddress: () => separate?.address() as AddressInfo | undefined,
    /** Drains the gateway's port within graceMs and closes the metrics port. */
    async close(graceMs: number): Promise<void> {
      const closing = connections.drain(graceMs);
      separate?.closeAllConnections();
      await Promise.all([closing, separate && new Promise((resolve) => separate.close(resolve))]);
    },
  };
}
