import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import type { Context } from './context.ts';
import type { Logger } from './logger.ts';

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
