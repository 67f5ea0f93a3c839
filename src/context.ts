import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity, KeyVerdicts } from './auth.ts';
import type { Config } from './config.ts';
import type { IdempotencyStore } from './datasources/idempotency.ts';
import { Loaders } from './datasources/loaders.ts';
import { Supplier, type SupplierDeps } from './datasources/supplier.ts';
import type { PollHub } from './subscriptions/poll-hub.ts';

/** What Node gives Yoga: the HTTP pair, or for graphql-ws the upgrade request and connection_init payload. */
export type ServerContext = { req: IncomingMessage; res?: ServerResponse; connectionParams?: Record<string, unknown> };

/** Long-lived pieces that every request shares. */
export interface GatewayServices extends SupplierDeps {
  config: Config;
  idempotency: IdempotencyStore;
  hub: PollHub;
  keyVerdicts: KeyVerdicts;
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
