/**
 * Customers signed in with the reseller's identity provider: a bearer token that is a JWT is
 * verified with jose against the provider's key set, found by OpenID Connect discovery from
 * JWT_ISSUER or named by JWT_JWKS_URL. jose's remote key set is cached, fetched again on a key id
 * it does not know at most once per cool-down, and again after its maximum age, so a flood of
 * tokens signed by unknown keys costs one fetch per cool-down, and a retired key stops verifying
 * once the cache has aged.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { JwtConfig } from '../config.ts';
import { readDecimal } from '../supplier/decimal.ts';

/** What a verified token says of its customer. */
export interface Customer {
  subject: string;
  scopes: ReadonlySet<string>;
  /** The customer's own spend cap per day, from JWT_SPEND_LIMIT_CLAIM; null when the token carries none. */
  spendLimit: string | null;
  /** When the token expires, ms since the epoch. */
  expiresAt: number;
}

/** Why a token was refused: said to the caller as `extensions.reason`, with no detail of the keys. */
export type Refusal = 'TOKEN_EXPIRED' | 'TOKEN_INVALID' | 'TOKEN_FOREIGN' | 'TOKEN_CLAIMS' | 'KEYS_UNAVAILABLE';

export type Verification = { ok: true; customer: Customer } | { ok: false; reason: Refusal; message: string };

/** A subject becomes part of the caller's name (`customer:<sub>`) and of state keys: kept to what a subject looks like. */
/** Spends are counted in units of 10^-10, exact up to this (2^53 units) in Redis's Lua. */
const MAX_SPEND_LIMIT = 900_000;

export const SUBJECT = /^[\x21-\x7e]{1,255}$/;

/** A compact JWS: three base64url parts, the header a JSON object (`eyJ`). */
export const looksLikeJwt = (token: string) => /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(token);

export class JwtVerifier {
  #keys?: Promise<JWTVerifyGetKey>;
  /** When discovery last failed: not tried again within the cool-down, however many tokens come. */
  #failedAt = -Infinity;

  constructor(private readonly config: JwtConfig) {}

  async verify(token: string): Promise<Verification> {
    let keys: JWTVerifyGetKey;
    try {
      keys = await this.#keySet();
    } catch (error) {
      return refused(
        'KEYS_UNAVAILABLE',
        `The identity provider's keys could not be read (${(error as Error).message}); try again shortly.`,
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: this.config.algorithms,
        clockTolerance: this.config.clockToleranceS,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      return refusal(error);
    }
    if (typeof payload.sub !== 'string' || !SUBJECT.test(payload.sub)) {
      return refused('TOKEN_CLAIMS', 'The token’s subject (sub) is not one the gateway takes.');
    }
    const spendLimit = this.config.spendLimitClaim ? payload[this.config.spendLimitClaim] : undefined;
    const limit = spendLimit === undefined || spendLimit === null ? null : readDecimal(spendLimit);
    if (
      (limit === null && spendLimit !== undefined && spendLimit !== null) ||
      (limit !== null && !(Number(limit) >= 0 && Number(limit) <= MAX_SPEND_LIMIT))
    ) {
      return refused('TOKEN_CLAIMS', `The token’s ${this.config.spendLimitClaim} claim is not an amount from 0 to ${MAX_SPEND_LIMIT}.`);
    }
    return {
      ok: true,
      customer: {
        subject: payload.sub,
        scopes: scopesOf(payload[this.config.scopesClaim]),
        spendLimit: limit,
        expiresAt: payload.exp! * 1000,
      },
    };
  }

  /** The remote key set, its address found once by discovery; a failure is tried again on the next token. */
  #keySet(): Promise<JWTVerifyGetKey> {
    if (!this.#keys && Date.now() - this.#failedAt < this.config.jwksCooldownMs) {
      return Promise.reject(new Error('discovery failed moments ago'));
    }
    this.#keys ??= this.#jwksUrl().then(
      (url) =>
        createRemoteJWKSet(url, {
          cooldownDuration: this.config.jwksCooldownMs,
          cacheMaxAge: this.config.jwksMaxAgeMs,
          timeoutDuration: 5000,
        }),
      (error: unknown) => {
        this.#keys = undefined;
        this.#failedAt = Date.now();
        throw error;
      },
    );
    return this.#keys;
  }

  async #jwksUrl(): Promise<URL> {
    if (this.config.jwksUrl) return new URL(this.config.jwksUrl);
    const discovery = new URL(`${this.config.issuer!.replace(/\/$/, '')}/.well-known/openid-configuration`);
    const response = await fetch(discovery, { signal: AbortSignal.timeout(5000), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`discovery answered HTTP ${response.status}`);
    const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery 1.0, 4.3: the issuer in the metadata must be the one asked for.
    if (metadata.issuer !== this.config.issuer) throw new Error('discovery names another issuer');
    if (typeof metadata.jwks_uri !== 'string') throw new Error('discovery names no jwks_uri');
    return new URL(metadata.jwks_uri);
  }
}

/** `scope` as OAuth 2.0 sends it (space-separated), or an array of scopes (`scp`, `permissions`). */
function scopesOf(claim: unknown): ReadonlySet<string> {
  if (typeof claim === 'string') return new Set(claim.split(' ').filter(Boolean));
  if (Array.isArray(claim)) return new Set(claim.filter((scope): scope is string => typeof scope === 'string'));
  return new Set();
}

const refused = (reason: Refusal, message: string): Verification => ({ ok: false, reason, message });

function refusal(error: unknown): Verification {
  if (error instanceof errors.JWTExpired) return refused('TOKEN_EXPIRED', 'The token has expired: sign in again.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss' || error.claim === 'aud') {
      return refused('TOKEN_FOREIGN', `The token was not issued for this gateway (${error.claim}).`);
    }
    return refused('TOKEN_CLAIMS', `The token's ${error.claim} claim is not valid.`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return refused('TOKEN_INVALID', 'The token is signed with an algorithm this gateway does not take.');
  if (error instanceof errors.JWKSNoMatchingKey)
    return refused('TOKEN_FOREIGN', 'The token is signed with a key the identity provider does not list.');
  if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC')) {
    return refused('KEYS_UNAVAILABLE', "The identity provider's keys could not be read; try again shortly.");
  }
  return refused('TOKEN_INVALID', 'The token is not a valid JWT of this identity provider.');
}

/** The longest delay setTimeout takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs `expired` when `expiresAt` (ms since the epoch) comes, however far off; the result cancels it. */
export function atExpiry(expiresAt: number, expired: () => void): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = expiresAt - Date.now();
    timer = setTimeout(left > MAX_TIMER_MS ? arm : expired, Math.max(0, Math.min(left, MAX_TIMER_MS)));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
