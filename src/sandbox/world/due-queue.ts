interface Entry {
  at: number;
  run: (now: number) => void;
}

/**
 * Things that fall due at a sandbox time (orders turning final), kept in a binary min-heap so each
 * request settles what is due in O(log n). An entry may run after its item changed: `run` must
 * check and be idempotent.
 */
export class DueQueue {
  readonly #heap: Entry[] = [];

  push(at: number, run: (now: number) => void): void {
    const heap = this.#heap;
    heap.push({ at, run });
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.#at(parent) <= this.#at(index)) break;
      this.#swap(index, parent);
      index = parent;
    }
  }

  runUntil(now: number): void {
    const heap = this.#heap;
    while (heap.length > 0 && this.#at(0) <= now) {
      const top = heap[0];
      const last = heap.pop();
      if (heap.length > 0 && last) {
        heap[0] = last;
        this.#sinkFromTop();
      }
      top?.run(now);
    }
  }

  #sinkFromTop(): void {
    const length = this.#heap.length;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < length && this.#at(left) < this.#at(smallest)) smallest = left;
      if (right < length && this.#at(right) < this.#at(smallest)) smallest = right;
      if (smallest === index) return;
      this.#swap(index, smallest);
      index = smallest;
    }
  }

  #at(index: number): number {
    return this.#heap[index]?.at ?? Infinity;
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const first = heap[a];
    const second = heap[b];
    if (first === undefined || second === undefined) return;
    heap[a] = second;
    heap[b] = first;
  }
}
