/**
 * Polls of one group (one tenant's orders, or its refills) made together: a supplier that reads
 * many ids in one call (`status&orders=`) is asked once per 100 watched things per round, not
 * once per thing.
 *
 * Rounds keep the group's own beat, one every poll interval, from its first round on. A loop says
 * how early it may poll again (its delay's lower bound, so never more often than a loop on its
 * own), and is taken by the first round from then; one backing off skips rounds. Loops watched at
 * different times thus share the rounds from their second poll: 1,000 watched orders cost 10
 * calls per interval, wherever their subscriptions started. A first poll does not wait for the
 * beat, only a moment for others starting about then. The last call of a round is filled up with
 * the loops closest to being due, which costs no call. Jitter has no place here: one call per 100
 * loops is the spreading. Loops of a supplier that reads one id per call are not batched: the hub
 * polls each by itself, jittered, since a round would send all their calls at once.
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
  /** The round that polls it: the first on the beat from `earliest`, or a first poll's own. */
  at: number;
}

export class PollBatch<L> {
  readonly #waiting = new Map<L, Waiting>();
  /** When the round that last polled each loop began. */
  readonly #polledAt = new Map<L, number>();
  #timer?: NodeJS.Timeout;
  #timerAt = Infinity;
  /** Loops of the group alive, waiting or polling: the batch goes when none is left. */
  members = 0;
  /** When a round on the beat ran (rounds run `period` apart from it); unset before the first. */
  #beat?: number;

  constructor(
    /** The tenant and group: a batch never reads one tenant's things with another's key. */
    readonly key: string,
    private readonly spec: (loop: L) => BatchSpec<unknown>,
    /** Hands a loop its state for this round (a promise that rejects with its error). */
    private readonly poll: (loop: L, state: Promise<unknown>) => void,
    private readonly now: () => number,
    /** The group's poll interval: the beat of its rounds. */
    private readonly period: number,
    /** Runs each supplier read of a round, for its trace (the round's loops share it). */
    private readonly traced: <T>(first: L, read: () => Promise<T>) => Promise<T> = (_first, read) => read(),
  ) {}

  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * The loop's next poll, `delayMs` after its last round began (not after its answer came, so
   * that a slow supplier does not make it miss a beat): the first round from 0.8 of it on, as
   * its own jitter would allow.
   */
  wait(loop: L, delayMs: number): void {
    const earliest = (this.#polledAt.get(loop) ?? this.now()) + delayMs * 0.8;
    this.#enter(loop, { earliest, at: this.#onBeat(earliest) });
  }

  /** A first poll: with the loops starting within `windowMs`, not on the beat. */
  first(loop: L, windowMs: number): void {
    const now = this.now();
    this.#enter(loop, { earliest: now, at: now + windowMs });
  }

  #enter(loop: L, waiting: Waiting): void {
    this.#waiting.set(loop, waiting);
    if (waiting.at < this.#timerAt) this.#arm(waiting.at);
  }

  /** The first round on the beat at or after `time`; the beat starts with the first round. */
  #onBeat(time: number): number {
    if (this.#beat === undefined) return time;
    if (time <= this.#beat) return this.#beat;
    return this.#beat + Math.ceil((time - this.#beat) / this.period) * this.period;
  }

  forget(loop: L): void {
    this.#waiting.delete(loop);
    this.#polledAt.delete(loop);
    if (this.#waiting.size === 0) this.#disarm();
  }

  close(): void {
    this.#waiting.clear();
    this.#polledAt.clear();
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
    this.#beat ??= now;
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
      for (const loop of due) {
        this.#waiting.delete(loop);
        this.#polledAt.set(loop, now);
      }
      for (let start = 0; start < due.length; start += perCall) this.#read(due.slice(start, start + perCall));
    }
    let next = Infinity;
    for (const waiting of this.#waiting.values()) next = Math.min(next, waiting.at);
    if (next < Infinity) this.#arm(next);
  }

  #read(loops: L[]): void {
    const specs = loops.map(this.spec);
    const states = this.traced(loops[0]!, () => specs[0]!.read(specs.map((spec) => spec.id)));
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
