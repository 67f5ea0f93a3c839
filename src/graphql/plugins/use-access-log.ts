import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Authenticator } from '../../auth/authenticator.ts';
import { REQUEST_ID_HEADER } from '../../http/request-id.ts';
import type { AccessLog } from '../../observability/access-log.ts';
import type { Context } from '../context.ts';
import { cacheOutcomeOf } from '../response-cache.ts';

/**
 * One line per HTTP request once its answer starts (an SSE stream's included): request id,
 * operation name and type, status, duration, supplier calls made, and the first 8 characters of
 * the tenant, enough to follow one tenant's requests and nothing to recover its key from.
 */
export function useAccessLog(log: AccessLog, auth: Authenticator): { first: Plugin<Context>; last: Plugin<Context> } {
  const requests = new WeakMap<Request, { started: number; operation?: string; type?: string; context?: Context }>();
  const seen = ({ args }: { args: { document: unknown; operationName?: string | null; contextValue: Context } }) => {
    const entry = requests.get((args.contextValue as Context & { request?: Request }).request!);
    if (!entry) return;
    const operation = getOperationAST(args.document as Parameters<typeof getOperationAST>[0], args.operationName);
    Object.assign(entry, { operation: operation?.name?.value, type: operation?.operation, context: args.contextValue });
  };
  // Two plugins: the first sees each request before any other plugin can answer it early (a 304, a
  // 413), the last writes the line once every other plugin has shaped the response.
  const first: Plugin<Context> = {
    onRequest: ({ request }) => void requests.set(request, { started: performance.now() }),
    onParams: ({ request, params }) => {
      const entry = requests.get(request);
      if (entry && params.operationName) entry.operation = params.operationName;
    },
    onExecute: seen,
    onSubscribe: seen,
  };
  const last: Plugin<Context> = {
    onResponse: ({ request, response }) => {
      const entry = requests.get(request);
      if (!entry) return;
      // An answer from the response cache runs no operation: it is a query, of the caller its key names.
      const cache = cacheOutcomeOf(request);
      const cached = cache === 'hit' || cache === 'not_modified';
      const identity = entry.context?.identity ?? (cached ? auth.identifyRequest(request) : undefined);
      log({
        requestId: response.headers.get(REQUEST_ID_HEADER),
        method: request.method,
        path: new URL(request.url).pathname,
        operation: entry.operation,
        type: entry.type ?? (cached ? 'query' : undefined),
        status: response.status,
        durationMs: performance.now() - entry.started,
        supplierCalls: entry.context?.supplier.calls ?? 0,
        tenant: identity?.ok ? identity.tenant : undefined,
        cache,
        cachePath: cache && 'graphql',
      });
    },
  };
  return { first, last };
}
