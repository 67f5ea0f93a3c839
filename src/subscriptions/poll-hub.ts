/**
 * One poll loop per watched thing (tenant + kind + id), however many subscribers watch it, across
 * connections and transports. The loop starts with the first subscriber, stops when the last one
 * leaves, backs off while nothing changes and gives up only on errors that will not pass.
 */
import { GatewayError, isGatewayError } from '../datasources/errors.ts';
import { Channel } from './channel.ts';

export interface PollSpec<T> {
  /** Reads the current state; called with fresh per-poll loaders by the caller. */
  poll(): Promise<T>;
  /** Whether two states differ in anything a subscriber sees. */
  same(a: T, b: T): boolean;
  /** A final state ends the loop after it is delivered. */
  isFinal(state: T): boolean;
  intervalMs: number;
  maxIntervalMs: number;
}

export interface PollHubOptions {
  /** How long transient failures may last before subscribers are told (UPSTREAM_UNAVAILABLE). */
  failureLimitMs: number;
  /** Active subscriptions one tenant may hold. */
  perTenant: number;
  random?: () => number;
  now?: () => number;
}

interface Loop<T> {
  spec: PollSpec<T>;
  subscribers: Set<Channel<T>>;
  last?: T;
  interval: number;
  failingSince?: number;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

/** Errors that polling again cannot mend: the loop ends with them. */
const FATAL = ['NOT_FOUND', 'UNAUTHENTICATED', 'BAD_USER_INPUT'] as const;

export class PollHub {
  readonly #loops = new Map<string, Loop<unknown>>();
  readonly #perTenant = new Map<string, number>();
  readonly #random: () => number;
  readonly #now: () => number;
  #closed = false;

  constructor(private readonly options: PollHubOptions) {
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** Running poll loops (for metrics and tests). */
  get loops(): number {
    return this.#loops.size;
  }

  get subscriptions(): number {
    let total = 0;
    for (const count of this.#perTenant.values()) total += count;
    return total;
  }

  /** The current state first, then each change; ends after a final state. */
  watch<T>(tenant: string, key: string, spec: () => PollSpec<T>): AsyncIterableIterator<T> {
    if (this.#closed) {
      // Retryable on purpose: clients reconnect, to this gateway's successor.
      throw new GatewayError('UPSTREAM_UNAVAILABLE', 'The gateway is shutting down: subscribe again in a moment.', {
        extensions: { reason: 'SHUTTING_DOWN' },
      });
    }
    const held = this.#perTenant.get(tenant) ?? 0;
    if (held >= this.options.perTenant) {
      throw new GatewayError('RATE_LIMITED', `At most ${this.options.perTenant} subscriptions per tenant are allowed.`, {
        extensions: { reason: 'SUBSCRIPTIONS_PER_TENANT' },
      });
    }
    this.#perTenant.set(tenant, held + 1);
    const id = `${tenant}\u0000${key}`;
    let loop = this.#loops.get(id) as Loop<T> | undefined;
    const channel = new Channel<T>(() => {
      this.#release(tenant);
      this.#leave(id, channel);
    });
    if (!loop) {
      const created = spec();
      loop = { spec: created, subscribers: new Set(), interval: created.intervalMs, stopped: false };
      this.#loops.set(id, loop as Loop<unknown>);
      loop.subscribers.add(channel);
      void this.#tick(id, loop);
    } else {
      loop.subscribers.add(channel);
      if (loop.last !== undefined) channel.push(loop.last);
    }
    return channel;
  }

  /**
   * Shutdown: refuses new subscriptions and ends every open one with a retryable error, never with
   * completion, which would tell a subscriber its order reached a final state.
   */
  close(): void {
    this.#closed = true;
    const restarting = new GatewayError('UPSTREAM_UNAVAILABLE', 'The gateway is restarting: subscribe again.', {
      extensions: { reason: 'SHUTTING_DOWN' },
    });
    for (const [id, loop] of this.#loops) {
      for (const channel of loop.subscribers) channel.fail(restarting);
      this.#stop(id, loop);
    }
  }

  #release(tenant: string): void {
    const held = (this.#perTenant.get(tenant) ?? 1) - 1;
    if (held <= 0) this.#perTenant.delete(tenant);
    else this.#perTenant.set(tenant, held);
  }

  #leave<T>(id: string, channel: Channel<T>): void {
    const loop = this.#loops.get(id) as Loop<T> | undefined;
    if (!loop) return;
    loop.subscribers.delete(channel);
    if (loop.subscribers.size === 0) this.#stop(id, loop as Loop<unknown>);
  }

  #stop(id: string, loop: Loop<unknown>): void {
    loop.stopped = true;
    clearTimeout(loop.timer);
    if (this.#loops.get(id) === loop) this.#loops.delete(id);
  }

  async #tick<T>(id: string, loop: Loop<T>): Promise<void> {
    let state: T;
    try {
      state = await loop.spec.poll();
    } catch (error) {
      if (loop.stopped) return;
      this.#failed(id, loop, error);
      return;
    }
    if (loop.stopped) return;
    loop.failingSince = undefined;
    const changed = loop.last === undefined || !loop.spec.same(loop.last, state);
    if (changed) {
      loop.last = state;
      loop.interval = loop.spec.intervalMs;
      for (const channel of loop.subscribers) channel.push(state);
    } else {
      loop.interval = Math.min(loop.interval * 2, loop.spec.maxIntervalMs);
    }
    if (loop.spec.isFinal(state)) {
      for (const channel of loop.subscribers) channel.end();
      this.#stop(id, loop as Loop<unknown>);
      return;
    }
    this.#schedule(id, loop, loop.interval);
  }

  #failed<T>(id: string, loop: Loop<T>, error: unknown): void {
    const fatal = !isGatewayError(error) || isGatewayError(error, ...FATAL);
    loop.failingSince ??= this.#now();
    if (fatal || this.#now() - loop.failingSince > this.options.failureLimitMs) {
      for (const channel of loop.subscribers) channel.fail(error);
      this.#stop(id, loop as Loop<unknown>);
      return;
    }
    loop.interval = Math.min(loop.interval * 2, loop.spec.maxIntervalMs);
    this.#schedule(id, loop, loop.interval);
  }

  /** ±20% jitter, so that thousands of loops started together do not poll in lockstep. */
  #schedule<T>(id: string, loop: Loop<T>, interval: number): void {
    const delay = interval * (0.8 + 0.4 * this.#random());
    loop.timer = setTimeout(() => void this.#tick(id, loop), delay);
    loop.timer.unref?.();
  }
}
