/**
 * A subscription's events seen through a wrapper that must know when they end, however they end:
 * the source's own end (through `next`), the subscriber leaving (`return`) or an error (`throw`).
 * A class rather than an object literal, so that its methods exist once, not once per
 * subscription (10,000 subscriptions hold 10,000 wrappers).
 */
export abstract class WrappedIterator<T> implements AsyncIterableIterator<T> {
  constructor(protected readonly source: AsyncIterator<T>) {}

  abstract next(): Promise<IteratorResult<T>>;

  /** Runs when the subscriber leaves or the wrapper is thrown into. */
  protected abstract ended(): void;

  async return(value?: unknown): Promise<IteratorResult<T>> {
    this.ended();
    return (await this.source.return?.(value)) ?? { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<T>> {
    this.ended();
    if (this.source.throw) return this.source.throw(error);
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
