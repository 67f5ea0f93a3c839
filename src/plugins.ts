import { randomUUID } from 'node:crypto';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import type { Context } from './context.ts';
import { GatewayError } from './datasources/errors.ts';
import type { Logger } from './logger.ts';

const REQUEST_ID_HEADER = 'x-request-id';
/** A caller's own request id is kept when it is short and plain, so it can go into logs as it is. */
const ACCEPTABLE_REQUEST_ID = /^[\w.-]{1,64}$/;

/**
 * Every request has an id: the caller's `X-Request-Id` when acceptable, a new UUID otherwise. It is
 * in the context for logs and sent back in the response header. A graphql-ws operation has no HTTP
 * request of its own and gets a new id.
 */
export function useRequestId(): Plugin<{ requestId?: string }> {
  const ids = new WeakMap<Request, string>();
  return {
    onRequest: ({ request }) => {
      const requested = request.headers.get(REQUEST_ID_HEADER) ?? '';
      ids.set(request, ACCEPTABLE_REQUEST_ID.test(requested) ? requested : randomUUID());
    },
    onContextBuilding: ({ context, extendContext }) => {
      const request = (context as { request?: Request }).request;
      extendContext({ requestId: (request && ids.get(request)) ?? randomUUID() });
    },
    onResponse: ({ request, response }) => {
      const id = ids.get(request);
      if (id) response.headers.set(REQUEST_ID_HEADER, id);
    },
  };
}

/**
 * Yoga's `maxRequestBodySize` refuses a body over the limit with HTTP 413, counting it as it
 * streams in, so a chunked body without a Content-Length is refused as soon as it passes the
 * limit, before it is buffered. This words the refusal in the gateway's own terms and closes the
 * connection, so the client stops sending the rest.
 */
export function useBodyLimit(maxBytes: number): Plugin {
  return {
    onResultProcess: ({ result, setResult }) => {
      const errors = Array.isArray(result) || isAsyncIterable(result) ? [] : (result.errors ?? []);
      if (!errors.some((error) => error.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE')) return;
      setResult({
        errors: [new GatewayError('BAD_USER_INPUT', `Request body over ${maxBytes} bytes.`, { extensions: { http: { status: 413 } } })],
      });
    },
    onResponse: ({ response }) => {
      if (response.status === 413) response.headers.set('connection', 'close');
    },
  };
}

/** Tells the caller when catalogue data came from the cache past its TTL because the supplier failed. */
export function useStaleNotice(): Plugin<Context> {
  return {
    onExecute: () => ({
      onExecuteDone: ({ args, result, setResult }) => {
        const stale = args.contextValue.stale;
        if (stale.length === 0 || isAsyncIterable(result)) return;
        setResult({ ...result, extensions: { ...result.extensions, stale: { catalogue: true, reads: stale } } });
      },
    }),
  };
}

/** Operation limits and browser protections, in one place. */
export function protections(): Plugin[] {
  return [
    EnvelopArmorPlugin({
      maxDepth: { n: 12 },
      maxAliases: { n: 100 },
      maxDirectives: { n: 20 },
      maxTokens: { n: 5000 },
      costLimit: { maxCost: 20000 },
      blockFieldSuggestion: { enabled: false },
    }),
    // A form post or bare GET from another site would skip the browser's CORS preflight and could
    // spend the key; any of these headers proves the caller is not such a "simple" request.
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'authorization', 'x-api-key', 'apollo-require-preflight'] }),
  ] as Plugin[];
}

/** Unexpected errors reach the caller masked ("Unexpected error."); the log keeps them with the request id. */
export function useErrorLog(logger: Logger): Plugin<Context> {
  return {
    onExecute: () => ({
      onExecuteDone: ({ args, result }) => {
        if (isAsyncIterable(result)) return;
        for (const error of result.errors ?? []) {
          if (error.originalError && !(error.originalError instanceof GraphQLError)) {
            logger.error({ requestId: args.contextValue.requestId, err: error.originalError, path: error.path }, 'unexpected error');
          }
        }
      },
    }),
  };
}
