/**
 * Who is calling, in one place: credentials from HTTP headers, from a graphql-ws `connection_init`
 * payload or an operation's `extensions.headers`; the design's two modes that turn them into an
 * identity; and the supplier's remembered verdict on a key.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Config } from './config.ts';
import { isGatewayError } from './datasources/errors.ts';
import type { HstockClient } from './datasources/hstock-client.ts';

export interface Credentials {
  /** The `Authorization` header, or `authorization` of a graphql-ws `connection_init` payload. */
  authorization?: string | null;
  /** The `X-Api-Key` header, or `apiKey` of a graphql-ws `connection_init` payload. */
  apiKey?: string | null;
}

/** Who is calling: a supplier key to spend (and its tenant), or why there is none. */
export type Identity = { ok: true; key: string; tenant: string } | { ok: false; reason: string };

const credentialsFromHeaders = (headers: Headers): Credentials => ({
  authorization: headers.get('authorization'),
  apiKey: headers.get('x-api-key'),
});

/**
 * Credentials from a `connection_init` payload (`apiKey`, `authorization`) or from an operation's
 * `extensions.headers` (`Authorization`, `X-Api-Key`, as GraphiQL sends its header editor), with
 * names matched case-insensitively.
 */
export function credentialsFrom(params: unknown): Credentials {
  const named = new Map<string, string>();
  if (params && typeof params === 'object') {
    for (const [name, value] of Object.entries(params)) if (typeof value === 'string') named.set(name.toLowerCase(), value);
  }
  return { authorization: named.get('authorization'), apiKey: named.get('apikey') ?? named.get('x-api-key') };
}

/** HTTP and SSE requests carry credentials in headers; graphql-ws operations in their connection params. */
export function credentialsOf(context: { request?: Request; connectionParams?: unknown }): Credentials {
  return context.request ? credentialsFromHeaders(context.request.headers) : credentialsFrom(context.connectionParams);
}

export const presents = (credentials: Credentials) => Boolean(credentials.authorization || credentials.apiKey);

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

/**
 * How long the supplier's verdict on a key is remembered: an accepted key for 5 minutes, so a
 * reconnecting client does not cost a call; a rejected one for a minute, so a client retrying a
 * bad key does not either, while a key just made valid works again soon.
 */
export const KEY_VERDICT_TTL_MS = { accepted: 5 * 60_000, rejected: 60_000 } as const;

/** The supplier's verdict on keys, by tenant, with one shared `balance` call per key at a time. */
export class KeyVerdicts {
  readonly #verdicts: LRUCache<string, boolean, string>;

  constructor(client: HstockClient, max = 10_000) {
    this.#verdicts = new LRUCache<string, boolean, string>({
      max,
      ttl: KEY_VERDICT_TTL_MS.accepted,
      fetchMethod: async (_tenant, _stale, { context: key, options }) => {
        try {
          await client.balance(key);
          return true;
        } catch (error) {
          if (!isGatewayError(error, 'UNAUTHENTICATED')) return undefined; // an outage is not a bad key: admit, remember nothing
          options.ttl = KEY_VERDICT_TTL_MS.rejected;
          return false;
        }
      },
    });
  }

  /** False only when the supplier rejected the key; an unreachable supplier admits it. */
  async accepts(identity: { key: string; tenant: string }): Promise<boolean> {
    return (await this.#verdicts.fetch(identity.tenant, { context: identity.key })) ?? true;
  }
}

/**
 * A WebSocket connection that presents a key the gateway or the supplier rejects is refused (the
 * socket closes with 4403, Forbidden). One that presents none is admitted: each operation then
 * needs its own `extensions.headers`, or gets UNAUTHENTICATED exactly as an HTTP request without
 * a key does.
 */
export async function admitConnection(params: unknown, config: Config, verdicts: KeyVerdicts): Promise<boolean> {
  const credentials = credentialsFrom(params);
  if (!presents(credentials)) return true;
  const identity = identify(credentials, config);
  if (!identity.ok) return false;
  if (config.serverKey !== undefined) return true;
  return verdicts.accepts(identity);
}
