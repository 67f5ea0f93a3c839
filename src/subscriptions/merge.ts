/** Interleaves several iterators as their values come; ends when all have ended, fails with the first error. */
export async function* merge<T>(sources: AsyncIterator<T>[]): AsyncGenerator<T> {
  const pending = new Map(sources.map((source, index) => [index, source.next().then((result) => ({ index, result }))]));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pending.set(index, sources[index]!.next().then((next) => ({ index, result: next })));
      yield result.value;
    }
  } finally {
    await Promise.all(sources.map((source) => source.return?.()));
  }
}
