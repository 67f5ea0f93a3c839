/**
 * Interleaves several iterators as their values come; ends when all have ended and fails with the
 * first error. Closing it (return, or an error) closes every source at once, even before the first
 * value was asked for: an async generator would skip its `finally` in that case and leave the
 * sources' poll loops running.
 */
export function merge<T>(sources: AsyncIterator<T>[]): AsyncIterableIterator<T> {
  // A failure is kept as a value until next() looks at it: a rejection nobody awaits yet (the
  // consumer still busy with the previous value) would be an unhandled one.
  type Settled = { index: number; result: IteratorResult<T> } | { index: number; error: unknown };
  const pending = new Map<number, Promise<Settled>>();
  const pull = (index: number) =>
    pending.set(
      index,
      sources[index]!.next().then(
        (result) => ({ index, result }),
        (error: unknown) => ({ index, error }),
      ),
    );
  sources.forEach((_source, index) => pull(index));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    pending.clear();
    await Promise.all(sources.map((source) => source.return?.()));
  };
  const done = (): IteratorResult<T> => ({ value: undefined, done: true });

  return {
    async next() {
      try {
        while (!closed && pending.size > 0) {
          const settled = await Promise.race(pending.values());
          if (closed) break;
          if ('error' in settled) throw settled.error;
          const { index, result } = settled;
          if (result.done) {
            pending.delete(index);
            continue;
          }
          pull(index);
          return { value: result.value, done: false };
        }
      } catch (error) {
        await close();
        throw error;
      }
      await close();
      return done();
    },
    async return() {
      await close();
      return done();
    },
    async throw(error: unknown) {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
