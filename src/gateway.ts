import { setTimeout as sleep } from 'node:timers/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type Config, ConfigError, loadConfigOrExit } from './config.ts';
import { type GatewayServices, createServices } from './services.ts';
import { createHttp } from './http/server.ts';
import { type Logger, createLogger } from './observability/logger.ts';
import { createSandbox } from './sandbox/index.ts';
import { stopOnSignals } from './http/signals.ts';
import { exitOnListenError, startupSummary } from './observability/startup.ts';
import { attachWebSocket } from './http/websocket.ts';
import { createGatewayYoga } from './graphql/yoga.ts';

export interface Gateway {
  yoga: ReturnType<typeof createGatewayYoga>;
  server: Server;
  services: GatewayServices;
  /** Listens on config.port (0: any free port) and resolves to the GraphQL URL. */
  start(): Promise<string>;
  /** Where /metrics is served when METRICS_PORT is set. */
  metricsAddress(): AddressInfo | undefined;
  /** How long stop() lets requests and placements in flight run before cutting their sockets. */
  readonly graceMs: number;
  stop(): Promise<void>;
}

/** The least time in-flight requests get to finish at shutdown before their sockets are cut. */
const MIN_SHUTDOWN_GRACE_MS = 10_000;

/** Closing the state store and the supplier pool after the grace; past it the process exits anyway (signals.ts). */
const SHUTDOWN_MARGIN_MS = 5_000;

export function createGateway(config: Config, logger: Logger = createLogger(config.logLevel)): Gateway {
  if (!config.upstreamUrl) throw new ConfigError('HSTOCK_API_URL must be set (main() starts a sandbox when it is not)');
  const services = createServices({ ...config, upstreamUrl: config.upstreamUrl }, logger);
  const yoga = createGatewayYoga(services, logger);
  const http = createHttp(services, yoga, logger);
  const websocket = attachWebSocket(http.server, yoga, services, () => !http.connections.draining);
  // Placements in flight may take one supplier call to finish; a margin lets their outcome be recorded.
  const graceMs = Math.max(MIN_SHUTDOWN_GRACE_MS, config.upstreamTimeoutMs + 5_000);
  return {
    yoga,
    server: http.server,
    services,
    metricsAddress: http.metricsAddress,
    graceMs,
    start: async () => {
      await services.tracing?.start();
      const url = await http.listen();
      services.health.start();
      services.sharedLimits?.start();
      return url;
    },
    stop: async () => {
      // New requests get 503 from here on; requests already received, and placements in flight,
      // run to their end and record their outcome. Then WebSocket clients are told to resubscribe
      // elsewhere (1012) and SSE streams end with a retryable error.
      services.spends.close();
      const deadline = performance.now() + graceMs;
      const closing = http.close(graceMs);
      await Promise.race([services.spends.settled(), sleep(graceMs, undefined, { ref: false })]);
      // One grace for the whole stop: WebSocket clients get what is left of it, at least a second.
      await websocket.close(Math.max(1000, deadline - performance.now()));
      await services.hub.close();
      await closing;
      services.health.stop();
      await services.sharedLimits?.stop();
      await Promise.all([services.client.close(), services.state.close()]);
      await services.tracing?.shutdown();
    },
  };
}

async function main(): Promise<void> {
  let config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  let sandbox: Awaited<ReturnType<typeof createSandbox>> | undefined;
  if (!config.upstreamUrl) {
    const names = { host: 'SANDBOX_HOST', port: 'SANDBOX_PORT' };
    sandbox = await createSandbox({ ...config.sandbox }).catch((error: unknown) => exitOnListenError(error, names, config.sandbox));
    config = { ...config, upstreamUrl: sandbox.url, serverKey: 'sandbox-demo-key', allowAnonymous: true };
    logger.info(`HSTOCK_API_URL is not set: using the built-in sandbox at ${sandbox.url} with its demo key`);
  } else {
    if (config.serverKey && config.allowAnonymous) logger.warn('GATEWAY_ALLOW_ANONYMOUS=true: anyone who can reach this port can spend the supplier key');
    if (!config.redisUrl) logger.warn('REDIS_URL is not set: idempotency records and the ledger live in this process and do not survive a restart');
  }
  const gateway = createGateway(config, logger);
  const url = await gateway.start().catch((error: unknown) => exitOnListenError(error, { host: 'HOST', port: 'PORT' }, config));
  logger.info(startupSummary(config, url, sandbox !== undefined), 'gateway started');

  const stop = async () => {
    await gateway.stop();
    await sandbox?.close();
  };
  stopOnSignals({ stop, unresolvedSpends: () => gateway.services.spends.size }, logger, gateway.graceMs + SHUTDOWN_MARGIN_MS);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
