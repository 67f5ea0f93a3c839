/**
 * What `npm start` says as it starts: one clear line for what stops it, and one JSON line for
 * what it runs (mode, supplier origin, state store, URL), never a key.
 */
import type { Config } from '../config.ts';

/** A listen that failed, in one line naming the variable to change; exit code 1. */
export function exitOnListenError(error: unknown, names: { host: string; port: string }, config: { host: string; port: number }): never {
  const code = (error as { code?: string }).code ?? '';
  const reason: Record<string, string> = {
    EADDRINUSE: `${names.port}=${config.port} is in use: set ${names.port} to a free port (0 picks one).`,
    EACCES: `${names.port}=${config.port} needs privileges this process does not have: use a port above 1023.`,
    ENOTFOUND: `${names.host}=${config.host} does not resolve to an address: use an IP address or a known host name.`,
    EAI_AGAIN: `${names.host}=${config.host} could not be resolved: use an IP address or a known host name.`,
    EADDRNOTAVAIL: `${names.host}=${config.host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its addresses.`,
  };
  if (!reason[code]) throw error;
  console.error(`Cannot listen: ${reason[code]}`);
  process.exit(1);
}

/** The start-up line's fields. */
export function startupSummary(config: Config, url: string, sandbox: boolean) {
  const redis = config.redisUrl ? new URL(config.redisUrl) : undefined;
  return {
    mode: sandbox ? 'sandbox' : config.serverKey ? 'server-key' : 'pass-through',
    supplier: new URL(config.upstreamUrl ?? url).origin,
    stateStore: redis ? `${redis.protocol}//${redis.host}` : 'memory',
    url,
    graphiql: config.graphiql,
    metrics: config.metrics ? (config.metricsPort === undefined ? 'on PORT' : `on METRICS_PORT=${config.metricsPort}`) : 'off',
    traces: config.traces ? new URL(config.traces.url).origin : 'off',
    customers: config.jwt ? (config.jwt.issuer ?? new URL(config.jwt.jwksUrl!).origin) : 'off',
    cors: config.corsOrigins.length > 0 ? config.corsOrigins.join(',') : config.serverKey || config.jwt ? 'no origin' : 'any origin',
  };
}
