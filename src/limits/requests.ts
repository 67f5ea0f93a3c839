/**
 * Request limits: a token bucket per tenant (every query and mutation takes a token),
 * and one per client address that only requests whose credentials fail drain, so that guessing
 * keys or tokens from one address stops long before it costs the supplier anything.
 */
import type { IncomingMessage } from 'node:http';
import { type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { limitKeyOf, type Authenticator, type Identity } from '../auth/authenticator.ts';
import type { Config } from '../config.ts';
import { isGroupExecution, Subscriber } from '../subscriptions/groups.ts';
import { TokenBuckets } from './token-buckets.ts';
import { rateLimited, type UpstreamGuard } from './upstream-guard.ts';

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
 * Failing credentials per client address, whatever the transport: HTTP requests, WebSocket
 * `connection_init` and each operation's `extensions.headers`. Only failures drain the bucket.
 */
export class AuthFailures {
  readonly #buckets: TokenBuckets;

  constructor(
    private readonly config: Pick<Config, 'authFailuresPerMinute' | 'trustProxy' | 'serverKey'>,
    private readonly guard: Pick<UpstreamGuard, 'standing'>,
  ) {
    this.#buckets = new TokenBuckets(config.authFailuresPerMinute / 60, config.authFailuresPerMinute);
  }

  /** 0 when these credentials may be tried from the request's address, else the ms until they may. */
  wait(identity: Identity, req: IncomingMessage | undefined): number {
    return this.#provenGood(identity) ? 0 : this.#buckets.peek(clientAddress(req, this.config.trustProxy));
  }

  /** Credentials failed: one failure more for the request's address. */
  charge(req: IncomingMessage | undefined): void {
    this.#buckets.take(clientAddress(req, this.config.trustProxy));
  }

  /**
   * Credentials known to be good pass even from an address that failed too often, so that one
   * client guessing keys behind a shared address does not lock out the others: a gateway token
   * checked here, or a supplier key the supplier answered lately.
   */
  #provenGood(identity: Identity): boolean {
    if (!identity.ok) return false;
    return this.config.serverKey !== undefined || this.guard.standing(identity.key) === true;
  }
}

const failedCredentials = (result: ExecutionResult) => (result.errors ?? []).some((error) => error.extensions.code === 'UNAUTHENTICATED');

type Context = { identity: Identity; req?: IncomingMessage; request?: Request };

/** What the request limits read of the runtime (runtime.ts, which builds AuthFailures, imports this file). */
interface LimitRuntime {
  config: Config;
  auth: Authenticator;
  authFailures: AuthFailures;
  /** A token from a tenant's request bucket: 0, or the ms until there is one. */
  tenantRate: (tenant: string) => Promise<number>;
}

/**
 * An HTTP request (SSE included) is checked as its parameters are read, before anything else
 * (the response cache included) answers it: every one takes a token. Over WebSocket each query
 * and mutation takes one as it executes; subscriptions there are counted by their own limits (per
 * connection, per tenant, starts per second) and share one poll loop per order.
 */
export function useRequestLimits(runtime: LimitRuntime): Plugin<Context> {
  const { config, authFailures } = runtime;
  const take = runtime.tenantRate;
  const refuse = async (identity: Identity, req: IncomingMessage | undefined, takesToken: boolean): Promise<GraphQLError | undefined> => {
    const failing = authFailures.wait(identity, req);
    if (failing > 0) return tooMany(failing, 'Too many requests with failing credentials from this address.', 'AUTH_FAILURES');
    if (!identity.ok || !takesToken) return undefined;
    const wait = await take(limitKeyOf(identity));
    return wait > 0 ? tooMany(wait, `More than ${config.rateLimit.perSecond} requests a second for this key.`, 'TENANT_RATE') : undefined;
  };
  const charge = (context: Context, result: ExecutionResult) => {
    if (failedCredentials(result)) authFailures.charge(context.req);
  };
  return {
    onParams: async ({ request, context, setResult }) => {
      const refused = await refuse(runtime.auth.identifyRequest(request), (context as { req?: IncomingMessage }).req, true);
      if (refused) setResult({ errors: [refused] });
    },
    onExecute: async ({ args, setResultAndStopExecution }) => {
      if (!args.contextValue.request) {
        const refused = await refuse(args.contextValue.identity, args.contextValue.req, true);
        if (refused) return setResultAndStopExecution({ errors: [refused] });
      }
      return {
        onExecuteDone: ({ result }) => {
          if (!isAsyncIterable(result)) charge(args.contextValue, result);
        },
      };
    },
    onSubscribe: async ({ args, setResultAndStopExecution }) => {
      if (!args.contextValue.request) {
        const refused = await refuse(args.contextValue.identity, args.contextValue.req, false);
        if (refused) return setResultAndStopExecution({ errors: [refused] });
      }
      return {
        onSubscribeResult: ({ result }) => {
          // A subscriber in a group: its group's execution charges the events below, once. A
          // refused execution is charged as each subscriber's own refusal, which it also is.
          if ((result as unknown) instanceof Subscriber) return;
          if (!isAsyncIterable(result)) return isGroupExecution(args) ? undefined : charge(args.contextValue, result);
          // A subscription's key is first tried by its first poll, whose failure reaches the
          // subscriber as an event (useSubscriptionEvents).
          return { onNext: ({ result: event }) => charge(args.contextValue, event) };
        },
      };
    },
  };
}
