/**
 * Who is calling, in one place: credentials from HTTP headers, from a graphql-ws `connection_init`
 * payload or an operation's `extensions.headers`; the design's two modes that turn them into an
 * identity; and the key check: the supplier's standing of a key, asked when unknown.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.ts';
import { isGatewayError } from '../errors.ts';
import { bounded } from '../limits/lru.ts';
import type { HstockClient } from '../supplier/client.ts';
import { JwtVerifier, looksLikeJwt, type Customer, type Refusal, type Verification } from './jwt.ts';

export interface Credentials {
  /** The `Authorization` header, or `authorization` of a graphql-ws `connection_init` payload. */
  authorization?: string | null;
  /** The `X-Api-Key` header, or `apiKey` of a graphql-ws `connection_init` payload. */
  apiKey?: string | null;
}

/**
 * Who is calling: a supplier key to spend (and its tenant), the caller that owns what it places,
 * whether it reads every order of the key, and what it may do; or why there is none.
 */
export type Identity =
  | {
      ok: true;
      key: string;
      tenant: string;
      caller: string;
      readsAll: boolean;
      /** What the caller may do (scopes.ts); undefined: everything (supplier keys, gateway tokens). */
      scopes?: ReadonlySet<string>;
      /** A customer signed in with the identity provider. */
      customer?: Customer;
      /** A gateway token's caller: a reseller's backend, which may place for a customer. */
      backend?: boolean;
    }
  | { ok: false; reason: string; refusal?: Refusal };

/**
 * Whose request rate and subscription limits a request counts toward: a signed-in customer's own,
 * so that one customer's flood locks out no other; every other caller's tenant's.
 */
export const limitKeyOf = (identity: { tenant: string; caller: string; customer?: unknown }) =>
  identity.customer ? `${identity.tenant}:${identity.caller}` : identity.tenant;

/** The caller a customer's orders belong to, whether it placed them or a backend did for it. */
export const customerCaller = (subject: string) => `customer:${subject}`;

/**
 * Headers a cross-site "simple" request cannot carry without a CORS preflight: credentials, or one
 * of the markers GraphQL clients send. A GET with none of them is refused (CSRF prevention).
 */
export const PREFLIGHT_HEADERS = ['authorization', 'x-api-key', 'x-graphql-yoga-csrf', 'apollo-require-preflight'];

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

const sha256 = (text: string) => createHash('sha256').update(text).digest();

export const tenantOf = (key: string) => sha256(key).toString('hex');

/** Longer than any supplier key or gateway token: refused without a look, let alone a supplier call. */
const MAX_CREDENTIAL = 512;
/** JWTs are longer; one past this is no token an identity provider issues. */
const MAX_JWT = 8192;

/** Verified tokens kept, so that a request repeats no signature check; and how long a refusal is kept. */
const VERIFIED_TOKENS = 10_000;
const REFUSAL_MS = 10_000;
/** A verified token is checked again after this long, whatever its expiry, so a retired key stops it. */
const VERIFIED_MS = 60_000;

function bearer(authorization: string | null | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}

interface Token {
  digest: Buffer;
  caller: string;
  readsAll: boolean;
}

const TOKEN_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** What a visitor with no credentials may do where PUBLIC_CATALOGUE is on. */
const PUBLIC_SCOPES: ReadonlySet<string> = new Set(['catalogue:read']);

/**
 * A `GATEWAY_TOKENS` entry is `name:secret` or a bare secret. The name is the caller, so a secret
 * can be rotated without losing what its caller owns; a bare secret's caller is a hash of it.
 */
function parseToken(entry: string, readsAll: boolean): Token {
  const colon = entry.indexOf(':');
  const name = colon > 0 ? entry.slice(0, colon) : '';
  const named = TOKEN_NAME.test(name) && colon < entry.length - 1;
  const secret = named ? entry.slice(colon + 1) : entry;
  const caller = named ? `token:${name}` : `token:#${sha256(secret).toString('hex').slice(0, 16)}`;
  return { digest: sha256(secret), caller, readsAll };
}

/** The design's two modes: pass-through (each caller's own key) and server key (gateway tokens). */
export class Authenticator {
  readonly #tokens: Token[];
  readonly #jwt?: JwtVerifier;
  /** Each token's verification, until it is due again (VERIFIED_MS, REFUSAL_MS). */
  readonly #verified = new LRUCache<string, Verification & { until: number }>(bounded(VERIFIED_TOKENS));
  readonly #verifying = new Map<string, Promise<void>>();

  constructor(private readonly config: Config) {
    this.#tokens = [
      ...config.gatewayTokens.map((entry) => parseToken(entry, false)),
      ...config.adminTokens.map((entry) => parseToken(entry, true)),
    ];
    if (config.jwt) this.#jwt = new JwtVerifier(config.jwt);
  }

  /**
   * Verifies a JWT among the credentials, once per token and then again each minute; identify()
   * reads the outcome. Every way in calls it before identify: HTTP requests, `connection_init`
   * and operations' `extensions.headers`. Anything that is not a JWT costs nothing here.
   */
  prepare(credentials: Credentials): Promise<void> | undefined {
    const token = this.#jwtOf(credentials);
    if (!token) return undefined;
    const known = this.#verified.get(token);
    if (known && known.until > Date.now()) return undefined;
    let verifying = this.#verifying.get(token);
    if (!verifying) {
      verifying = this.#jwt!.verify(token).then((verification) => {
        // Checked again within the key set's maximum age, so that a retired key stops a token as soon as it would verify no more.
        const again = Date.now() + Math.min(VERIFIED_MS, this.config.jwt!.jwksMaxAgeMs);
        const until = verification.ok ? Math.min(again, verification.customer.expiresAt) : Date.now() + REFUSAL_MS;
        this.#verified.set(token, { ...verification, until });
      });
      this.#verifying.set(token, verifying);
      void verifying.finally(() => this.#verifying.delete(token));
    }
    return verifying;
  }

  /** A bearer token that is a JWT, where JWT callers are configured and it is no gateway token. */
  #jwtOf(credentials: Credentials): string | undefined {
    const token = bearer(credentials.authorization);
    if (!this.#jwt || !token) return undefined;
    // A token verified lately is known to be a JWT (no gateway token is ever verified): no hashing, no pattern.
    if (this.#verified.has(token)) return token;
    if (token.length > MAX_JWT || !looksLikeJwt(token)) return undefined;
    return this.#find(token) ? undefined : token;
  }

  /** The caller of a verified token, spending the gateway's key or, in pass-through mode, the one it sends beside it. */
  #customer(token: string, apiKey: string | undefined): Identity {
    const verified = this.#verified.get(token);
    if (!verified) return { ok: false, reason: 'The token could not be verified: send it again.', refusal: 'KEYS_UNAVAILABLE' };
    if (!verified.ok) return { ok: false, reason: verified.message, refusal: verified.reason };
    const { customer } = verified;
    if (customer.expiresAt + this.config.jwt!.clockToleranceS * 1000 <= Date.now()) {
      return { ok: false, reason: 'The token has expired: sign in again.', refusal: 'TOKEN_EXPIRED' };
    }
    const key = this.config.serverKey ?? apiKey;
    if (!key) {
      return {
        ok: false,
        reason: 'This gateway spends each caller’s own supplier key: send it as "X-Api-Key: <key>" beside the token.',
      };
    }
    const caller = customerCaller(customer.subject);
    return { ok: true, key, tenant: tenantOf(key), caller, readsAll: false, scopes: customer.scopes, customer };
  }

  readonly #byRequest = new WeakMap<Request, Identity>();

  /** The identity of an HTTP request, worked out once however many plugins ask. */
  identifyRequest(request: Request): Identity {
    let identity = this.#byRequest.get(request);
    if (!identity) this.#byRequest.set(request, (identity = this.identify(credentialsOf({ request }))));
    return identity;
  }

  get serverKeyMode(): boolean {
    return this.config.serverKey !== undefined;
  }

  identify(credentials: Credentials): Identity {
    const serverKey = this.config.serverKey;
    const jwt = this.#jwtOf(credentials);
    if (jwt) return this.#customer(jwt, credentials.apiKey?.trim() || undefined);
    if ((credentials.authorization?.length ?? 0) > MAX_CREDENTIAL || (credentials.apiKey?.length ?? 0) > MAX_CREDENTIAL) {
      return { ok: false, reason: `Credentials longer than ${MAX_CREDENTIAL} characters are not a key or token.` };
    }
    if (serverKey === undefined) {
      const presented = bearer(credentials.authorization) ?? (credentials.apiKey?.trim() || undefined);
      if (!presented) {
        return { ok: false, reason: 'Send your supplier API key as "Authorization: Bearer <key>" or "X-Api-Key: <key>".' };
      }
      const tenant = tenantOf(presented);
      return { ok: true, key: presented, tenant, caller: tenant, readsAll: true };
    }
    if (credentials.apiKey?.trim()) {
      // A supplier key sent to a gateway that spends its own would otherwise be silently ignored.
      const instead = this.config.allowAnonymous
        ? 'send a gateway token as "Authorization: Bearer <token>", or no credentials at all'
        : 'send a gateway token as "Authorization: Bearer <token>"';
      return { ok: false, reason: `This gateway spends its own supplier key and takes no X-Api-Key: ${instead}.` };
    }
    const token = bearer(credentials.authorization);
    if (!token) {
      if (this.config.allowAnonymous)
        return { ok: true, key: serverKey, tenant: tenantOf(serverKey), caller: 'anonymous', readsAll: false };
      if (this.config.publicCatalogue) {
        return { ok: true, key: serverKey, tenant: tenantOf(serverKey), caller: 'public', readsAll: false, scopes: PUBLIC_SCOPES };
      }
      return { ok: false, reason: 'Send a gateway token as "Authorization: Bearer <token>".' };
    }
    const known = this.#find(token);
    if (!known) return { ok: false, reason: this.#jwt ? 'Unknown gateway token, and not a JWT.' : 'Unknown gateway token.' };
    return { ok: true, key: serverKey, tenant: tenantOf(serverKey), caller: known.caller, readsAll: known.readsAll, backend: true };
  }

  /** Compares against every entry in constant time, so timing tells nothing of the tokens. */
  #find(token: string): Token | undefined {
    const digest = sha256(token);
    let found: Token | undefined;
    for (const known of this.#tokens) if (timingSafeEqual(digest, known.digest)) found ??= known;
    return found;
  }
}

/**
 * The key check, for admitting a WebSocket connection: the key's standing as the upstream guard
 * remembers it (an accepted key for 5 minutes, a rejected one for 1), or one `balance` call,
 * shared by connections presenting the same key at once. An unreachable supplier admits the key.
 */
export class KeyCheck {
  readonly #checks = new Map<string, Promise<boolean>>();

  constructor(private readonly client: HstockClient) {}

  accepts(identity: { key: string; tenant: string }): Promise<boolean> {
    const known = this.client.guard.standing(identity.key);
    if (known !== undefined) return Promise.resolve(known);
    let check = this.#checks.get(identity.tenant);
    if (!check) {
      check = this.client.balance(identity.key).then(
        () => true,
        (error: unknown) => !isGatewayError(error, 'UNAUTHENTICATED'),
      );
      this.#checks.set(identity.tenant, check);
      void check.finally(() => this.#checks.delete(identity.tenant));
    }
    return check;
  }
}

/**
 * A WebSocket connection that presents a key the gateway or the supplier rejects is refused (the
 * socket closes with 4403, Forbidden). One that presents none is admitted: each operation then
 * needs its own `extensions.headers`, or gets UNAUTHENTICATED exactly as an HTTP request without
 * a key does.
 */
export async function admitConnection(params: unknown, auth: Authenticator, check: KeyCheck): Promise<boolean> {
  const credentials = credentialsFrom(params);
  if (!presents(credentials)) return true;
  const identity = auth.identify(credentials);
  if (!identity.ok) return false;
  if (auth.serverKeyMode) return true;
  return check.accepts(identity);
}
