/**
 * A push-to-pull queue for one subscriber: the hub pushes states, GraphQL pulls them. Leaving
 * (return) tells the hub once, however the subscriber goes: complete, disconnect or error.
 */
export class Channel<T> implements AsyncIterableIterator<T> {
  readonly #queue: T[] = [];
  #waiting?: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void };
  #error?: { error: unknown };
  #done = false;
  #left = false;

  constructor(private readonly onLeave: () => void) {}

  push(value: T): void {
    if (this.#done) return;
    if (this.#waiting) {
      this.#waiting.resolve({ value, done: false });
      this.#waiting = undefined;
    } else {
      this.#queue.push(value);
    }
  }

  end(): void {
    this.#done = true;
    this.#leave();
    if (this.#waiting && this.#queue.length === 0) {
      this.#waiting.resolve({ value: undefined, done: true });
      this.#waiting = undefined;
    }
  }

  fail(error: unknown): void {
    if (this.#done) return;
    if (this.#waiting) {
      this.#waiting.reject(error);
      this.#waiting = undefined;
    } else {
      this.#error = { error };
    }
    this.#done = true;
    this.#leave();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift() as T, done: false });
    if (this.#error) {
      const { error } = this.#error;
      this.#error = undefined;
      return Promise.reject(error);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.#queue.length = 0;
    this.#error = undefined;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #leave(): void {
    if (this.#left) return;
    this.#left = true;
    this.onLeave();
  }
}
