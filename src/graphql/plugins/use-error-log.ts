import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Logger } from '../../observability/logger.ts';
import type { Context } from '../context.ts';

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
