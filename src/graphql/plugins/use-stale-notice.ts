import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Context } from '../context.ts';

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
