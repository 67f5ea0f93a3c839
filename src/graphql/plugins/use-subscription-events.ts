import { getOperationAST, GraphQLError, Kind, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { WrappedIterator } from '../../subscriptions/wrapped-iterator.ts';

/**
 * What a subscriber receives, the same over WebSocket and SSE: each event only when its payload
 * differs from the last one (a change in a field it did not select is no event for it), and a
 * failure as a last event with `errors` (code and path), then completion, never a transport
 * error. It runs in a group's one execution (subscriptions/groups.ts), so every subscriber of the
 * group gets the same distinct events; a subscriber's own end at its token's expiry moved there.
 */
export function useSubscriptionEvents(): Plugin {
  return {
    onSubscribe: ({ args }) => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (!isAsyncIterable(result)) return;
        const root = getOperationAST(args.document, args.operationName)?.selectionSet.selections[0];
        const path = root?.kind === Kind.FIELD ? [root.alias?.value ?? root.name.value] : [];
        setResult(new DistinctEvents(result[Symbol.asyncIterator](), path));
      },
    }),
  };
}

/**
 * An iterator, not an async generator: a generator waiting for the next event would not pass a
 * group's end on to the source until that event came, and the poll loop would go on.
 */
class DistinctEvents extends WrappedIterator<ExecutionResult> {
  /** The last payload sent, as text. */
  #last: string | undefined;
  #ended = false;

  constructor(
    source: AsyncIterator<ExecutionResult>,
    private readonly path: string[],
  ) {
    super(source);
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    while (!this.#ended) {
      let event: IteratorResult<ExecutionResult>;
      try {
        event = await this.source.next();
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        this.#ended = true;
        return { value: { errors: [new GraphQLError(error.message, { path: this.path, extensions: error.extensions })] }, done: false };
      }
      if (event.done) break;
      const text = JSON.stringify(event.value);
      if (text === this.#last) continue;
      this.#last = text;
      return event;
    }
    this.ended();
    return { value: undefined, done: true };
  }

  protected ended(): void {
    this.#ended = true;
  }
}
