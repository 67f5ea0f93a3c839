import { getOperationAST, GraphQLError, Kind, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { atExpiry } from '../../auth/jwt.ts';
import { WrappedIterator } from '../../subscriptions/wrapped-iterator.ts';
import type { OperationContext } from '../context.ts';

/**
 * What a subscriber receives, the same over WebSocket and SSE: each event only when its payload
 * differs from the last one this subscriber got (a change in a field it did not select is no
 * event for it), and a failure as a last event with `errors` (code and path), then completion,
 * never a transport error. A signed-in customer's subscription ends when its token expires, with
 * UNAUTHENTICATED (`reason: "TOKEN_EXPIRED"`): over SSE that is how the client learns to sign in
 * again; a WebSocket opened with the token is closed with 4403 at the same moment (websocket.ts).
 */
export function useSubscriptionEvents(): Plugin<Partial<Pick<OperationContext, 'identity'>>> {
  return {
    onSubscribe: ({ args }) => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (!isAsyncIterable(result)) return;
        const root = getOperationAST(args.document, args.operationName)?.selectionSet.selections[0];
        const path = root?.kind === Kind.FIELD ? [root.alias?.value ?? root.name.value] : [];
        const identity = args.contextValue.identity;
        const expiresAt = identity?.ok ? identity.customer?.expiresAt : undefined;
        setResult(new DistinctEvents(result[Symbol.asyncIterator](), path, expiresAt));
      },
    }),
  };
}

const EXPIRED = Symbol('expired');

/**
 * An iterator, not an async generator: a generator waiting for the next event would not pass a
 * subscriber's leaving on to the source until that event came, and the poll loop would go on.
 */
class DistinctEvents extends WrappedIterator<ExecutionResult> {
  /** The last payload this subscriber got, as text. */
  #last: string | undefined;
  #ended = false;
  /** Resolves when the subscriber's token expires; one timer, made with the subscription. */
  readonly #expiry?: Promise<typeof EXPIRED>;
  #cancelExpiry?: () => void;

  constructor(
    source: AsyncIterator<ExecutionResult>,
    private readonly path: string[],
    expiresAt?: number,
  ) {
    super(source);
    if (expiresAt !== undefined) {
      this.#expiry = new Promise((resolve) => (this.#cancelExpiry = atExpiry(expiresAt, () => resolve(EXPIRED))));
    }
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    while (!this.#ended) {
      let event: IteratorResult<ExecutionResult> | typeof EXPIRED;
      try {
        event = await (this.#expiry ? Promise.race([this.source.next(), this.#expiry]) : this.source.next());
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        this.#ended = true;
        return { value: { errors: [new GraphQLError(error.message, { path: this.path, extensions: error.extensions })] }, done: false };
      }
      if (event === EXPIRED) return this.#expired();
      if (event.done) break;
      const text = JSON.stringify(event.value);
      if (text === this.#last) continue;
      this.#last = text;
      return event;
    }
    this.ended();
    return { value: undefined, done: true };
  }

  /** The token expired: the subscriber leaves the poll hub and gets one last event saying why. */
  #expired(): IteratorResult<ExecutionResult> {
    this.#ended = true;
    void this.source.return?.();
    const error = new GraphQLError('The token has expired: sign in again and subscribe again.', {
      path: this.path,
      extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' },
    });
    return { value: { errors: [error] }, done: false };
  }

  protected ended(): void {
    this.#ended = true;
    this.#cancelExpiry?.();
  }
}
