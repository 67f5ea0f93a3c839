/**
 * A line of work: at most `width` at once, the rest waiting in order. A slot that frees passes
 * straight to the next in line, so nothing overtakes what waits.
 */
export class Line {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly width: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running < this.width) this.#running += 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
