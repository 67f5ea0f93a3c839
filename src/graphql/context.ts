/**
 * What one operation sees: the runtime every request shares, who is calling, that caller's view of the supplier
 * and the per-operation loaders.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '../auth/authenticator.ts';
import type { Runtime } from '../runtime.ts';
import type { Subscriber } from '../subscriptions/groups.ts';
import { Loaders } from '../supplier/loaders.ts';
import { Supplier } from '../supplier/supplier.ts';

/** What Node gives Yoga: the HTTP pair, or for graphql-ws the upgrade request and connection_init payload. */
export type ServerContext = { req: IncomingMessage; res?: ServerResponse; connectionParams?: Record<string, unknown> };

interface StaleRead {
  action: string;
  staleSeconds: number;
}

/**
 * What the context factory builds: a plain object of own properties, since Envelop merges
 * contexts with Object.assign, which would drop getters and private fields of a class instance.
 */
export interface OperationContext {
  runtime: Runtime;
  identity: Identity;
  supplier: Supplier;
  loaders: Loaders;
  /** Catalogue reads served past their TTL because the supplier failed; reported in `extensions`. */
  stale: StaleRead[];
  /** Subscriptions this operation's watches counted (orderUpdates: one per id): what each later subscriber of its group takes too. */
  watched: number;
  /** Over graphql-ws, the operation's subscriber, made by its socket; an SSE subscriber is made as it joins its group. */
  subscriber?: Subscriber;
}

/** What resolvers see: the operation's pieces and the request id that `useRequestId` adds. */
export interface Context extends OperationContext {
  requestId: string;
}

export function createContext(runtime: Runtime, identity: Identity): OperationContext {
  const stale: StaleRead[] = [];
  const supplier = new Supplier(identity, runtime, (action, staleSeconds) => stale.push({ action, staleSeconds }));
  return { runtime, identity, supplier, loaders: new Loaders(supplier, runtime.state.ledger), stale, watched: 0 };
}
