import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Identity, KeyVerdicts } from './auth.ts';
import type { Config } from './config.ts';
import { LruReadCache } from './datasources/cache.ts';
import { HstockClient } from './datasources/hstock-client.ts';
import { type IdempotencyStore, LruIdempotencyStore } from './datasources/idempotency.ts';
import { Loaders } from './datasources/loaders.ts';
import { Supplier, type SupplierDeps } from './datasources/supplier.ts';
import { UpstreamHealth } from './health.ts';
import type { Logger } from './logger.ts';
import { PollHub } from './subscriptions/poll-hub.ts';

/** What Node gives Yoga: the HTTP pair, or for graphql-ws the upgrade request and connection_init payload. */
export type ServerContext = { req: IncomingMessage; res?: ServerResponse; connectionParams?: Record<string, unknown> };

/** Long-lived pieces that every request shares. */
export interface GatewayServices extends SupplierDeps {
  config: Config;
  idempotency: IdempotencyStore;
  hub: PollHub;
  keyVerdicts: KeyVerdicts;
  health: UpstreamHealth;
}

export function createServices(config: Config & { upstreamUrl: string }, logger: Logger): GatewayServices {
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
  return {
    config,
    client,
    health,
    ttl: config.cacheTtlSeconds,
    cache: new LruReadCache({ maxEntries: config.cacheMaxEntries, maxBytes: config.cacheMaxBytes, staleMaxSeconds: config.cacheStaleMaxSeconds }),
    idempotency: new LruIdempotencyStore({ ttlSeconds: config.idempotencyTtlSeconds, maxEntries: config.idempotencyMaxEntries }),
    hub: new PollHub({ failureLimitMs: config.pollFailureLimitMs, perTenant: config.subscriptionsPerTenant }),
    keyVerdicts: new KeyVerdicts(client),
  };
}

export interface StaleRead {
  action: string;
  staleSeconds: number;
}

/**
 * What the context factory builds: a plain object of own properties, since Envelop merges
 * contexts with Object.assign, which would drop getters and private fields of a class instance.
 */
export interface OperationContext {
  services: GatewayServices;
  identity: Identity;
  supplier: Supplier;
  loaders: Loaders;
  /** Catalogue reads served past their TTL because the supplier failed; reported in `extensions`. */
  stale: StaleRead[];
}

/** What resolvers see: the operation's pieces and the request id that `useRequestId` adds. */
export interface Context extends OperationContext {
  requestId: string;
}

export function createContext(services: GatewayServices, identity: Identity): OperationContext {
  const stale: StaleRead[] = [];
  const supplier = new Supplier(identity, services, (action, staleSeconds) => stale.push({ action, staleSeconds }));
  return { services, identity, supplier, loaders: new Loaders(supplier), stale };
}
