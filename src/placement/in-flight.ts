/** Work that must finish before the process exits: placements whose outcome is still to be recorded. */
export class InFlight {
  readonly #running = new Set<Promise<unknown>>();
  #closing = false;

  /** Shutdown began: placements that have not reached their spend are refused (placement.ts). */
  close(): void {
    this.#closing = true;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Placements still running: what a forced exit would leave unrecorded. */
  get size(): number {
    return this.#running.size;
  }

  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return work;
  }

  /** Resolves when everything tracked so far has settled. */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }
}
