/**
 * Request limits: a token bucket per tenant (every query and mutation takes a token),
 * and one per client address that only requests whose credentials fail drain, so that guessing
 * keys or tokens from one address stops long before it costs the supplier anything.
 */
import type { IncomingMessage } from 'node:http';
import type { GraphQLError } from 'graphql';
import { type ExecutionResult } from 'graphql';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { Identity } from './auth.ts';
import type { GatewayServices, OperationContext } from './context.ts';
import { rateLimited } from './datasources/upstream-guard.ts';

/** Buckets remembered at once; the least recently used is forgotten (and starts full again). */
const BUCKETS = 100_000;

/** Token buckets by key: `capacity` tokens, refilled at `perSecond`. */
export class TokenBuckets {
  readonly #buckets = new LRUCache<string, { tokens: number; at: number }>({ max: BUCKETS });

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token: 0 when there was one, else the milliseconds until there will be. */
  take(key: string): number {
    const bucket = this.#fill(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.perSecond) * 1000);
  }

  /** Whether a token is there, without taking it: 0, or the milliseconds until one is. */
  peek(key: string): number {
    const bucket = this.#buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.capacity, bucket.tokens + ((this.now() - bucket.at) / 1000) * this.perSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.perSecond) * 1000);
  }

  #fill(key: string) {
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    return bucket;
  }
}

/** The client's address: the socket's, or with TRUST_PROXY set the one that many proxies saw. */
export function clientAddress(req: IncomingMessage | undefined, trustProxy: number): string {
  const socket = req?.socket.remoteAddress ?? 'unknown';
  if (trustProxy === 0 || !req) return socket;
  const forwarded = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((hop) => hop.trim())
    .filter(Boolean);
  return forwarded[forwarded.length - trustProxy] ?? forwarded[0] ?? socket;
}

const tooMany = (retryMs: number, message: string, reason: string) => {
  const error = rateLimited(retryMs, message, { reason });
  error.extensions.http = { status: 429, headers: { 'retry-after': String(error.extensions.retryAfterSeconds) } };
  return error;
};

/**
 * Credentials known to be good pass even from an address that failed too often, so that one
 * client guessing keys behind a shared address does not lock out the others: a gateway token
 * checked here, or a supplier key the supplier answered lately.
 */
function provenGood(identity: Identity, services: GatewayServices): boolean {
  if (!identity.ok) return false;
  return services.auth.serverKeyMode || services.client.guard.verdict(identity.key) === true;
}

const failedCredentials = (result: ExecutionResult) => (result.errors ?? []).some((error) => error.extensions.code === 'UNAUTHENTICATED');

type Context = OperationContext & { req?: IncomingMessage; request?: Request };

/**
 * An HTTP request (SSE included) is checked as its parameters are read, before anything else
 * (the response cache included) answers it: every one takes a token. Over WebSocket each query
 * and mutation takes one as it executes; subscriptions there are counted by their own limits (per
 * connection, per tenant) and share one poll loop per order.
 */
export function useRequestLimits(services: GatewayServices): Plugin<Context> {
  const { config } = services;
  const tenants = new TokenBuckets(config.rateLimit.perSecond, config.rateLimit.burst);
  const failures = new TokenBuckets(config.authFailuresPerMinute / 60, config.authFailuresPerMinute);
  const shared = services.sharedLimits;
  /** The tenant's bucket, shared by all instances when Redis is there, this instance's own otherwise. */
  const take = async (tenant: string) => {
    if (shared) {
      try {
        return await shared.take(tenant, config.rateLimit.perSecond, config.rateLimit.burst);
      } catch {
        // Redis away: counted here alone until it is back.
      }
    }
    return tenants.take(tenant);
  };
  const refuse = async (identity: Identity, req: IncomingMessage | undefined, takesToken: boolean): Promise<GraphQLError | undefined> => {
    const failing = failures.peek(clientAddress(req, config.trustProxy));
    if (failing > 0 && !provenGood(identity, services)) {
      return tooMany(failing, 'Too many requests with failing credentials from this address.', 'AUTH_FAILURES');
    }
    if (!identity.ok || !takesToken) return undefined;
    const wait = await take(identity.tenant);
    return wait > 0 ? tooMany(wait, `More than ${config.rateLimit.perSecond} requests a second for this key.`, 'TENANT_RATE') : undefined;
  };
  const charge = (context: Context, result: unknown) => {
    if (!isAsyncIterable(result) && failedCredentials(result as ExecutionResult)) failures.take(clientAddress(context.req, config.trustProxy));
  };
  return {
    onParams: async ({ request, context, setResult }) => {
      const refused = await refuse(services.auth.identifyRequest(request), (context as { req?: IncomingMessage }).req, true);
      if (refused) setResult({ errors: [refused] });
    },
    onExecute: async ({ args, setResultAndStopExecution }) => {
      if (!args.contextValue.request) {
        const refused = await refuse(args.contextValue.identity, args.contextValue.req, true);
        if (refused) return setResultAndStopExecution({ errors: [refused] });
      }
      return { onExecuteDone: ({ result }) => charge(args.contextValue, result) };
    },
    onSubscribe: async ({ args, setResultAndStopExecution }) => {
      if (!args.contextValue.request) {
        const refused = await refuse(args.contextValue.identity, args.contextValue.req, false);
        if (refused) return setResultAndStopExecution({ errors: [refused] });
      }
      return { onSubscribeResult: ({ result }) => charge(args.contextValue, result) };
    },
  };
}
