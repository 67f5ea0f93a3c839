/**
 * Polls of one group (one tenant's orders, or its refills) made together: a supplier that reads
 * many ids in one call (`status&orders=`) is asked once per 100 watched things per round, not
 * once per thing.
 *
 * Each loop still says when it would poll on its own (its jittered time) and how early it may
 * poll (its interval's lower bound). A round runs at the first of those times and takes every
 * loop that may poll by then, so loops polled together stay together: after one round they
 * converge on one round per interval. The last call of a round is filled up with the loops
 * closest to being due, which costs no call and keeps the round from splitting as loops back
 * off at different paces. A supplier that reads one id per call gets no filling.
 */

/** How a loop of a batch is read. */
export interface BatchSpec<T> {
  /** Loops of one group are polled together; it names the tenant and the kind of thing. */
  group: string;
  /** This loop's id in `read`. */
  id: string;
  /** Ids one supplier call takes: 100, or 1 from a supplier that reads one at a time. */
  perCall(): number;
  /** Each id's state or its own error, in the order of `ids`; rejects when the whole read failed. */
  read(ids: readonly string[]): Promise<Array<T | Error>>;
}

interface Waiting {
  /** The loop may be polled from then on. */
  earliest: number;
  /** The loop is polled then at the latest. */
  at: number;
}

export class PollBatch<L> {
  readonly #waiting = new Map<L, Waiting>();
  #timer?: NodeJS.Timeout;
  #timerAt = Infinity;
  /** Loops of the group alive, waiting or polling: the batch goes when none is left. */
  members = 0;

  constructor(
    /** The tenant and group: a batch never reads one tenant's things with another's key. */
    readonly key: string,
    private readonly spec: (loop: L) => BatchSpec<unknown>,
    /** Hands a loop its state for this round (a promise that rejects with its error). */
    private readonly poll: (loop: L, state: Promise<unknown>) => void,
    private readonly now: () => number,
  ) {}

  get waiting(): number {
    return this.#waiting.size;
  }

  /** The loop's next poll: at `at` at the latest, with any round from `earliest` on. */
  wait(loop: L, earliest: number, at: number): void {
    this.#waiting.set(loop, { earliest, at });
    if (at < this.#timerAt) this.#arm(at);
  }

  forget(loop: L): void {
    this.#waiting.delete(loop);
    if (this.#waiting.size === 0) this.#disarm();
  }

  close(): void {
    this.#waiting.clear();
    this.#disarm();
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#round(), Math.max(0, at - this.now()));
    this.#timer.unref?.();
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #round(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.now();
    const due: L[] = [];
    const later: Array<[L, Waiting]> = [];
    for (const entry of this.#waiting) {
      if (entry[1].earliest <= now || entry[1].at <= now) due.push(entry[0]);
      else later.push(entry);
    }
    if (due.length > 0) {
      const perCall = Math.max(1, this.spec(due[0]!).perCall());
      const room = perCall > 1 ? (perCall - (due.length % perCall)) % perCall : 0;
      if (room > 0 && later.length > 0) {
        later.sort((a, b) => a[1].earliest - b[1].earliest);
        for (const [loop] of later.splice(0, room)) due.push(loop);
      }
      for (const loop of due) this.#waiting.delete(loop);
      for (let start = 0; start < due.length; start += perCall) this.#read(due.slice(start, start + perCall));
    }
    let next = Infinity;
    for (const waiting of this.#waiting.values()) next = Math.min(next, waiting.at);
    if (next < Infinity) this.#arm(next);
  }

  #read(loops: L[]): void {
    const specs = loops.map(this.spec);
    const states = specs[0]!.read(specs.map((spec) => spec.id));
    loops.forEach((loop, index) => {
      const state = states.then((all) => {
        const own = all[index];
        if (own instanceof Error) throw own;
        return own;
      });
      // A loop that no longer polls (it stopped, or rejoined its peers) drops its state unread.
      state.catch(() => undefined);
      this.poll(loop, state);
    });
  }
}
