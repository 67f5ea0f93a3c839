/**
 * The gateway assembled from its configuration: the runtime every request shares, Yoga, the HTTP
 * server and the WebSocket server on it, and how they start and stop together. main.ts runs it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from './config.ts';
import { createGatewayYoga } from './graphql/yoga.ts';
import { createHttp } from './http/server.ts';
import { attachWebSocket } from './http/websocket.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { ConfigError } from './settings.ts';

export interface Gateway {
  yoga: ReturnType<typeof createGatewayYoga>;
  server: Server;
  runtime: Runtime;
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

export function createGateway(config: Config, logger: Logger = createLogger(config.logLevel)): Gateway {
  if (!config.upstreamUrl) throw new ConfigError('HSTOCK_API_URL must be set (main() starts a sandbox when it is not)');
  const runtime = createRuntime({ ...config, upstreamUrl: config.upstreamUrl }, logger);
  const yoga = createGatewayYoga(runtime, logger);
  const http = createHttp(runtime, yoga, logger);
  const websocket = attachWebSocket(http.server, yoga, runtime, () => !http.connections.draining, logger);
  // Placements in flight may take one supplier call to finish; a margin lets their outcome be recorded.
  const graceMs = Math.max(MIN_SHUTDOWN_GRACE_MS, config.upstreamTimeoutMs + 5_000);
  return {
    yoga,
    server: http.server,
    runtime,
    metricsAddress: http.metricsAddress,
    graceMs,
    start: async () => {
      await runtime.tracing?.start();
      const url = await http.listen();
      runtime.health.start();
      runtime.sharedLimits?.start();
      runtime.follower?.start();
      runtime.webhooks.dispatcher.start(runtime.events.outbox);
      return url;
    },
    stop: async () => {
      // New requests get 503 from here on; requests already received, and placements in flight,
      // run to their end and record their outcome. Then WebSocket clients are told to resubscribe
      // elsewhere (1012) and SSE streams end with a retryable error.
      runtime.spends.close();
      const deadline = performance.now() + graceMs;
      const closing = http.close(graceMs);
      await Promise.race([runtime.spends.settled(), sleep(graceMs, undefined, { ref: false })]);
      // One grace for the whole stop: WebSocket clients get what is left of it, at least a second.
      await websocket.close(Math.max(1000, deadline - performance.now()));
      await runtime.hub.close();
      // A round running ends after its batch; ids it claimed and did not read are read elsewhere once their lease lapses.
      await runtime.follower?.stop();
      // Attempts in flight finish within their timeout, or their lease lapses and another instance sends them.
      await runtime.webhooks.dispatcher.stop(Math.max(0, deadline - performance.now()));
      await closing;
      runtime.health.stop();
      await runtime.sharedLimits?.stop();
      await Promise.all([runtime.client.close(), runtime.state.close()]);
      await runtime.tracing?.shutdown();
    },
  };
}
