/**
 * One poll loop per watched thing (tenant + kind + id), however many subscribers watch it, across
 * connections and transports, and with Redis across instances (coordination.ts). The loop starts
 * with the first subscriber, stops when the last one leaves, backs off while nothing changes and
 * gives up only on errors that will not pass.
 *
 * With coordination each loop has a role: the `leader` holds the lease and polls, publishing
 * each change; a `follower` delivers what is published and takes the lease over when it lapses
 * or is given up; a `local` loop polls by itself because Redis is away, and rejoins when it is
 * back. Without coordination every loop is local.
 */
import { LRUCache } from 'lru-cache';
import { GatewayError, isGatewayError } from '../errors.ts';
import { bounded } from '../limits/lru.ts';
import { pollTickSpan } from '../observability/tracing.ts';
import { PollBatch, type BatchSpec } from './batch.ts';
import { Channel } from './channel.ts';
import type { Coordination, LoopEvent } from './coordination.ts';

/**
 * A loop reads its state by itself (`poll`, with fresh per-poll loaders), or with the other loops
 * of its batch (`batch`, batch.ts): one supplier call for many of them. A spec has one of the two.
 */
export interface PollSpec<T> {
  poll?(): Promise<T>;
  batch?: BatchSpec<T>;
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
  coordination?: Coordination;
  /** Told when loops start or stop polling by themselves because Redis is away. */
  onLocal?: (local: boolean) => void;
  random?: () => number;
  now?: () => number;
}

type Role = 'joining' | 'leader' | 'follower' | 'local';

interface Loop<T> {
  id: string;
  spec: PollSpec<T>;
  subscribers: Set<Channel<T>>;
  last?: T;
  /** The last coordinated event delivered here: its sequence, and the lease that published it. */
  seq: number;
  lease?: string;
  interval: number;
  failingSince?: number;
  timer?: NodeJS.Timeout;
  stopped: boolean;
  role: Role;
  token?: string;
  leave?: () => Promise<void>;
  batch?: PollBatch<Loop<unknown>>;
}

/** Errors that polling again cannot mend: the loop ends with them. */
const FATAL = ['NOT_FOUND', 'UNAUTHENTICATED', 'BAD_USER_INPUT'] as const;

/** How long the last event of a loop is kept for watchers who come later. */
const KEEP_LAST_MS = 10 * 60_000;

/**
 * How long, and how many, things the supplier did not find are remembered per tenant: a new watch
 * of one fails at once, so a client repeating a made-up id costs no supplier call.
 */
const NOT_FOUND_MS = 30_000;
const NOT_FOUND_ENTRIES = 10_000;

/** How long a batched loop's first poll waits for others starting about then, to be read with them. */
const FIRST_POLL_WINDOW_MS = 20;

export class PollHub {
  readonly #loops = new Map<string, Loop<unknown>>();
  readonly #batches = new Map<string, PollBatch<Loop<unknown>>>();
  readonly #perTenant = new Map<string, number>();
  readonly #notFound = new LRUCache<string, { message: string; extensions: Record<string, unknown>; until: number }>(
    bounded(NOT_FOUND_ENTRIES),
  );
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #coordination?: Coordination;
  #closed = false;

  constructor(private readonly options: PollHubOptions) {
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#coordination = options.coordination;
    // Messages published while pub/sub was down were missed: read each loop's last event again.
    this.#coordination?.onReconnect(() => {
      for (const loop of this.#loops.values()) if (loop.role === 'follower') void this.#resync(loop);
    });
  }

  /** Running poll loops (for metrics and tests). */
  get loops(): number {
    return this.#loops.size;
  }

  /** Loops this instance polls for every instance, and those it polls by itself while Redis is away. */
  get roles(): { leading: number; local: number } {
    let leading = 0;
    let local = 0;
    for (const loop of this.#loops.values()) {
      if (loop.role === 'leader') leading++;
      else if (loop.role === 'local' && this.#coordination) local++;
    }
    return { leading, local };
  }

  get subscriptions(): number {
    let total = 0;
    for (const count of this.#perTenant.values()) total += count;
    return total;
  }

  /**
   * The current state first, then each change; ends after a final state. `onEnd` runs once when it
   * ends. The loop is the tenant's; the subscription counts toward `countAs` (a customer's own
   * limit), the tenant by default.
   */
  watch<T>(tenant: string, key: string, spec: () => PollSpec<T>, onEnd?: () => void, countAs = tenant): AsyncIterableIterator<T> {
    this.#open();
    const id = `${tenant}:${key}`;
    const notFound = this.#notFound.get(id);
    if (notFound && notFound.until > this.#now())
      throw new GatewayError('NOT_FOUND', notFound.message, { extensions: notFound.extensions });
    this.#take(countAs, 1);
    let loop = this.#loops.get(id) as Loop<T> | undefined;
    const channel = new Channel<T>(() => {
      this.#release(countAs);
      this.#leave(id, channel);
      onEnd?.();
    });
    if (!loop) {
      const created = spec();
      loop = { id, spec: created, subscribers: new Set(), seq: 0, interval: created.intervalMs, stopped: false, role: 'joining' };
      const started = loop as Loop<unknown>;
      this.#loops.set(id, started);
      if (created.batch) started.batch = this.#batch(`${tenant}\u0000${created.batch.group}`, created.intervalMs);
      loop.subscribers.add(channel);
      if (this.#coordination) void this.#join(started);
      else this.#goLocal(started, false);
    } else {
      loop.subscribers.add(channel);
      if (loop.last !== undefined) channel.push(loop.last);
    }
    return channel;
  }

  /**
   * Counts `count` subscriptions toward `countAs` that watch through a loop they share with an
   * execution already counted (subscribers joining a group, groups.ts); returns how to give them back.
   */
  hold(countAs: string, count: number): () => void {
    this.#open();
    this.#take(countAs, count);
    let held = true;
    return () => {
      if (held) this.#release(countAs, count);
      held = false;
    };
  }

  /**
   * Shutdown: refuses new subscriptions and ends every open one with a retryable error, never with
   * completion, which would tell a subscriber its order reached a final state. Leases are given
   * up, so other instances take the loops over at once.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const restarting = new GatewayError('UPSTREAM_UNAVAILABLE', 'The gateway is restarting: subscribe again.', {
      extensions: { reason: 'SHUTTING_DOWN' },
    });
    const stopping = [...this.#loops.values()].map((loop) => {
      for (const channel of loop.subscribers) channel.fail(restarting);
      return this.#stop(loop);
    });
    await Promise.all(stopping);
  }

  /** The batch of a group, made with its first loop and gone with its last. */
  #batch(key: string, period: number): PollBatch<Loop<unknown>> {
    let batch = this.#batches.get(key);
    if (!batch) {
      batch = new PollBatch<Loop<unknown>>(
        key,
        (loop) => loop.spec.batch!,
        (loop, state) => void this.#tick(loop, state),
        this.#now,
        period,
        (first, read) => pollTickSpan(first.role, read),
      );
      this.#batches.set(key, batch);
    }
    batch.members += 1;
    return batch;
  }

  #open(): void {
    if (this.#closed) {
      // Retryable on purpose: clients reconnect, to this gateway's successor.
      throw new GatewayError('UPSTREAM_UNAVAILABLE', 'The gateway is shutting down: subscribe again in a moment.', {
        extensions: { reason: 'SHUTTING_DOWN' },
      });
    }
  }

  #take(countAs: string, count: number): void {
    const held = this.#perTenant.get(countAs) ?? 0;
    if (held + count > this.options.perTenant) {
      throw new GatewayError('RATE_LIMITED', `At most ${this.options.perTenant} subscriptions per tenant are allowed.`, {
        extensions: { reason: 'SUBSCRIPTIONS_PER_TENANT' },
      });
    }
    this.#perTenant.set(countAs, held + count);
  }

  #release(tenant: string, count = 1): void {
    const held = (this.#perTenant.get(tenant) ?? count) - count;
    if (held <= 0) this.#perTenant.delete(tenant);
    else this.#perTenant.set(tenant, held);
  }

  #leave<T>(id: string, channel: Channel<T>): void {
    const loop = this.#loops.get(id) as Loop<T> | undefined;
    if (!loop) return;
    loop.subscribers.delete(channel);
    if (loop.subscribers.size === 0) void this.#stop(loop as Loop<unknown>);
  }

  /** Stops the loop here; its lease, if it held it, goes to the instances still watching. */
  async #stop(loop: Loop<unknown>): Promise<void> {
    if (loop.stopped) return;
    loop.stopped = true;
    this.#unschedule(loop);
    if (this.#loops.get(loop.id) === loop) this.#loops.delete(loop.id);
    const { batch } = loop;
    if (batch && --batch.members === 0) {
      batch.close();
      if (this.#batches.get(batch.key) === batch) this.#batches.delete(batch.key);
    }
    const { token, leave } = loop;
    loop.token = undefined;
    await Promise.all([token && this.#coordination?.resign(loop.id, token).catch(() => undefined), leave?.().catch(() => undefined)]);
  }

  /** A lease outlives the longest pause between two polls (renewals), jitter included, with a margin. */
  #leaseMs(loop: Loop<unknown>): number {
    return loop.spec.maxIntervalMs * 2.5 + 2000;
  }

  async #join(loop: Loop<unknown>): Promise<void> {
    try {
      const membership = await this.#coordination!.join<unknown>(
        loop.id,
        (event) => this.#receive(loop, event),
        () => void this.#lead(loop),
      );
      loop.leave = membership.leave;
      if (loop.stopped) return void membership.leave().catch(() => undefined);
      if (membership.last) this.#receive(loop, membership.last);
      await this.#lead(loop);
    } catch {
      this.#goLocal(loop, true);
    }
  }

  /** Takes the lease if it is free: then polls; otherwise follows, and tries again before it could lapse. */
  async #lead(loop: Loop<unknown>): Promise<void> {
    if (loop.stopped || loop.role === 'leader') return;
    try {
      const token = await this.#coordination!.lead(loop.id, this.#leaseMs(loop));
      if (loop.stopped) {
        if (token) await this.#coordination!.resign(loop.id, token);
        return;
      }
      this.#unschedule(loop);
      if (token) {
        this.#setRole(loop, 'leader');
        loop.token = token;
        this.#pollSoon(loop);
      } else {
        this.#setRole(loop, 'follower');
        this.#schedule(loop, this.#leaseMs(loop) / 3, () => void this.#lead(loop));
      }
    } catch {
      this.#goLocal(loop, true);
    }
  }

  async #resync(loop: Loop<unknown>): Promise<void> {
    try {
      const last = await this.#coordination!.read(loop.id);
      if (last) this.#receive(loop, last);
    } catch {
      // Still away: the follower's next lease attempt finds out and polls by itself.
    }
  }

  #goLocal(loop: Loop<unknown>, redisAway: boolean): void {
    if (loop.stopped) return;
    if (redisAway) {
      this.#degrade(loop);
      this.#unschedule(loop);
    } else {
      loop.role = 'local';
    }
    this.#pollSoon(loop);
  }

  #setRole(loop: Loop<unknown>, role: Role): void {
    if (loop.role === role) return;
    if (this.#coordination && (loop.role === 'local' || role === 'local')) this.options.onLocal?.(role === 'local');
    loop.role = role;
  }

  /** Redis went away under a coordinated loop: it polls by itself until Redis is back. */
  #degrade(loop: Loop<unknown>): void {
    this.#setRole(loop, 'local');
    loop.token = undefined;
    void loop.leave?.().catch(() => undefined);
    loop.leave = undefined;
  }

  /** An event published by whichever instance polls: delivered once, in order. */
  #receive(loop: Loop<unknown>, event: LoopEvent<unknown>): void {
    if (loop.stopped || (event.lease === loop.lease && event.seq <= loop.seq)) return;
    loop.seq = event.seq;
    loop.lease = event.lease;
    if (event.error) {
      const error = new GatewayError(event.error.extensions.code as never, event.error.message, { extensions: event.error.extensions });
      this.#remember(loop, error);
      for (const channel of loop.subscribers) channel.fail(error);
      return void this.#stop(loop);
    }
    this.#deliver(loop, event.state);
    if (event.final) this.#end(loop);
  }

  #deliver(loop: Loop<unknown>, state: unknown): void {
    if (loop.last !== undefined && loop.spec.same(loop.last, state)) return;
    loop.last = state;
    for (const channel of loop.subscribers) channel.push(state);
  }

  #end(loop: Loop<unknown>): void {
    for (const channel of loop.subscribers) channel.end();
    void this.#stop(loop);
  }

  /** `polled`: the loop's state as its batch read it; a loop without a batch polls by itself. */
  async #tick(loop: Loop<unknown>, polled?: Promise<unknown>): Promise<void> {
    if (loop.role === 'local' && this.#coordination?.ready && !loop.leave) return this.#join(loop);
    let state: unknown;
    try {
      // A batch's round is traced once, for all its loops (batch.ts).
      state = await (polled ?? pollTickSpan(loop.role, () => this.#pollAlone(loop)));
    } catch (error) {
      if (!loop.stopped) await this.#failed(loop, error);
      return;
    }
    if (loop.stopped) return;
    loop.failingSince = undefined;
    const changed = loop.last === undefined || !loop.spec.same(loop.last, state);
    const final = loop.spec.isFinal(state);
    if (changed || final) {
      if (!(await this.#share(loop, { state, final }))) return;
      loop.interval = loop.spec.intervalMs;
      this.#deliver(loop, state);
    } else {
      loop.interval = Math.min(loop.interval * 2, loop.spec.maxIntervalMs);
      if (!(await this.#renew(loop))) return;
    }
    if (final) return this.#end(loop);
    this.#scheduleTick(loop, loop.interval);
  }

  /**
   * A leader records and publishes what it polled before delivering it here; if the lease was
   * lost meanwhile it follows instead (false). A local loop shares nothing. Redis away: local.
   */
  async #share(loop: Loop<unknown>, event: Omit<LoopEvent<unknown>, 'seq' | 'lease'>): Promise<boolean> {
    if (loop.role !== 'leader' || !loop.token) return !loop.stopped;
    try {
      const seq = await this.#coordination!.publish(loop.id, loop.token, event, KEEP_LAST_MS);
      if (loop.stopped) return false;
      if (seq === undefined) {
        loop.token = undefined;
        this.#setRole(loop, 'follower');
        this.#schedule(loop, this.#leaseMs(loop) / 3, () => void this.#lead(loop));
        return false;
      }
      if (loop.lease !== loop.token || seq > loop.seq) {
        loop.seq = seq;
        loop.lease = loop.token;
      }
      return true;
    } catch {
      this.#degrade(loop);
      return !loop.stopped;
    }
  }

  async #renew(loop: Loop<unknown>): Promise<boolean> {
    if (loop.role !== 'leader' || !loop.token) return !loop.stopped;
    try {
      if (await this.#coordination!.renew(loop.id, loop.token, this.#leaseMs(loop))) return !loop.stopped;
      loop.token = undefined;
      this.#setRole(loop, 'follower');
      this.#schedule(loop, 0, () => void this.#lead(loop));
      return false;
    } catch {
      this.#degrade(loop);
      return !loop.stopped;
    }
  }

  async #failed(loop: Loop<unknown>, error: unknown): Promise<void> {
    const fatal = !isGatewayError(error) || isGatewayError(error, ...FATAL);
    loop.failingSince ??= this.#now();
    if (fatal || this.#now() - loop.failingSince > this.options.failureLimitMs) {
      if (isGatewayError(error))
        await this.#share(loop, { error: { message: error.message, extensions: { ...error.extensions } }, final: true });
      this.#remember(loop, error);
      for (const channel of loop.subscribers) channel.fail(error);
      return void this.#stop(loop);
    }
    loop.interval = Math.min(loop.interval * 2, loop.spec.maxIntervalMs);
    if (!(await this.#renew(loop))) return;
    this.#scheduleTick(loop, loop.interval);
  }

  #remember(loop: Loop<unknown>, error: unknown): void {
    if (!isGatewayError(error, 'NOT_FOUND')) return;
    this.#notFound.set(loop.id, { message: error.message, extensions: { ...error.extensions }, until: this.#now() + NOT_FOUND_MS });
  }

  /** ±20% jitter, so that thousands of loops started together do not poll in lockstep. */
  #schedule(loop: Loop<unknown>, interval: number, run: () => void): void {
    if (loop.stopped) return;
    this.#unschedule(loop);
    const delay = interval * (0.8 + 0.4 * this.#random());
    loop.timer = setTimeout(run, delay);
    loop.timer.unref?.();
  }

  /**
   * The next poll: in one of its batch's rounds (batch.ts), or by itself, jittered, where the
   * supplier reads one id per call: a round would send all its calls at once.
   */
  #scheduleTick(loop: Loop<unknown>, interval: number): void {
    if (!this.#batched(loop)) return this.#schedule(loop, interval, () => void this.#tick(loop));
    if (loop.stopped) return;
    clearTimeout(loop.timer);
    loop.batch.wait(loop, interval);
  }

  /** A first poll, or the first as leader: at once, or with the batch's loops starting about now. */
  #pollSoon(loop: Loop<unknown>): void {
    if (!this.#batched(loop)) return void this.#tick(loop);
    loop.batch.first(loop, FIRST_POLL_WINDOW_MS);
  }

  #batched(loop: Loop<unknown>): loop is Loop<unknown> & { batch: PollBatch<Loop<unknown>> } {
    return loop.batch !== undefined && loop.spec.batch!.perCall() > 1;
  }

  /** A loop's own poll: its spec's, or its batch's read of its id alone. */
  async #pollAlone(loop: Loop<unknown>): Promise<unknown> {
    if (loop.spec.poll) return loop.spec.poll();
    const [state] = await loop.spec.batch!.read([loop.spec.batch!.id]);
    if (state instanceof Error) throw state;
    return state;
  }

  #unschedule(loop: Loop<unknown>): void {
    clearTimeout(loop.timer);
    loop.batch?.forget(loop);
  }
}
