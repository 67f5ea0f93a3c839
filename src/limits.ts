/**
 * Request limits: a token bucket per tenant (every query and mutation takes a token),
 * and one per client address that only requests whose credentials fail drain, so that guessing
 * keys or tokens from one address stops long before it costs the supplier anything.
 */
import type { IncomingMessage } from 'node:http';
import type { GraphQLError } from 'graphql';
import { type ExecutionResult } from 'graphql';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import type { Identity } from './auth.ts';
import { TokenBuckets } from './token-buckets.ts';
import type { GatewayServices, OperationContext } from './context.ts';
import { rateLimited } from './datasources/upstream-guard.ts';

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
  const failures = new TokenBuckets(config.authFailuresPerMinute / 60, config.authFailuresPerMinute);
  const take = services.tenantRate;
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
