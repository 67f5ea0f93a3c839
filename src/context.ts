import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from './config.ts';
import type { IdempotencyStore } from './datasources/idempotency.ts';
import { Loaders } from './datasources/loaders.ts';
import { type Identity, Supplier, type SupplierDeps } from './datasources/supplier.ts';
import type { PollHub } from './subscriptions/poll-hub.ts';

export type { Identity };

/** Long-lived pieces that every request shares. */
export interface GatewayServices extends SupplierDeps {
  config: Config;
  idempotency: IdempotencyStore;
  hub: PollHub;
}

export interface Credentials {
  /** The `Authorization` header, or `authorization` of a graphql-ws `connection_init` payload. */
  authorization?: string | null;
  /** The `X-Api-Key` header, or `apiKey` of a graphql-ws `connection_init` payload. */
  apiKey?: string | null;
}

export interface StaleRead {
  action: string;
  staleSeconds: number;
}

/**
 * A plain object of own properties: Envelop merges contexts with Object.assign, which would drop
 * getters and private fields of a class instance.
 */
export interface Context {
  services: GatewayServices;
  identity: Identity;
  requestId: string;
  supplier: Supplier;
  loaders: Loaders;
  /** Catalogue reads served past their TTL because the supplier failed; reported in `extensions`. */
  stale: StaleRead[];
}

export const tenantOf = (key: string) => createHash('sha256').update(key).digest('hex');

function bearer(authorization: string | null | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

function knownToken(token: string, tokens: readonly string[]): boolean {
  const digest = createHash('sha256').update(token).digest();
  return tokens.some((known) => timingSafeEqual(digest, createHash('sha256').update(known).digest()));
}

/** The design's two modes: pass-through (each caller's own key) and server key (gateway tokens). */
export function identify(credentials: Credentials, config: Config): Identity {
  const presented = bearer(credentials.authorization) ?? (credentials.apiKey?.trim() || undefined);
  if (config.serverKey === undefined) {
    if (!presented) {
      return { ok: false, reason: 'Send your supplier API key as "Authorization: Bearer <key>" or "X-Api-Key: <key>".' };
    }
    return { ok: true, key: presented, tenant: tenantOf(presented) };
  }
  const token = bearer(credentials.authorization);
  const allowed = token ? knownToken(token, config.gatewayTokens) : config.allowAnonymous;
  if (!allowed) {
    return { ok: false, reason: token ? 'Unknown gateway token.' : 'Send a gateway token as "Authorization: Bearer <token>".' };
  }
  return { ok: true, key: config.serverKey, tenant: tenantOf(config.serverKey) };
}

export function createContext(services: GatewayServices, identity: Identity, requestId: string): Context {
  const stale: StaleRead[] = [];
  const supplier = new Supplier(identity, services, (action, staleSeconds) => stale.push({ action, staleSeconds }));
  return { services, identity, requestId, supplier, loaders: new Loaders(supplier), stale };
}
