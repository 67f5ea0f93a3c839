/**
 * The poll hub on a fake clock: intervals, backoff, jitter, the failure limit and which errors end
 * a loop. Gateway tests cover the same hub through real transports.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { PollHub, type PollSpec } from '../../src/subscriptions/poll-hub.ts';

interface State {
  status: string;
}

/** A spec whose poll answers from a script (a state, or an error to throw), repeating the last entry. */
function scripted(script: Array<State | Error>, options: Partial<PollSpec<State>> = {}) {
  const polls: number[] = [];
  const spec: PollSpec<State> = {
    poll: async () => {
      polls.push(Date.now());
      const next = script.length > 1 ? script.shift()! : script[0]!;
      if (next instanceof Error) throw next;
      return next;
    },
    same: (a, b) => a.status === b.status,
    isFinal: (state) => state.status === 'done',
    intervalMs: 1000,
    maxIntervalMs: 8000,
    ...options,
  };
  return { spec, polls };
}

/** Collects what a subscriber sees, without blocking the test on the iterator. */
function drain(iterator: AsyncIterableIterator<State>) {
  const seen: string[] = [];
  const ended = (async () => {
    for await (const state of iterator) seen.push(state.status);
    return 'complete';
  })().catch((error: unknown) => error);
  return { seen, ended };
}

const gaps = (times: number[]) => times.slice(1).map((time, i) => time - times[i]!);
const unavailable = () => new GatewayError('UPSTREAM_UNAVAILABLE', 'The supplier did not answer.');

let hub: PollHub;
beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  // random() = 0.5 puts the ±20% jitter at its middle: exact intervals, unless a test says otherwise.
  hub = new PollHub({ failureLimitMs: 10_000, perTenant: 100, random: () => 0.5 });
});
afterEach(() => {
  hub.close();
  vi.useRealTimers();
});

describe('PollHub', () => {
  it('backs off while nothing changes, to the maximum, and resets the interval on a change', async () => {
    const same = { status: 'pending' };
    const { spec, polls } = scripted([same, same, same, same, same, same, { status: 'running' }, { status: 'running' }]);
    const { seen } = drain(hub.watch('t', 'order:1', () => spec));
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000 + 8000 + 8000 + 1000);
    expect(gaps(polls)).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 1000]);
    expect(seen).toEqual(['pending', 'running']);
  });

  it('jitters each delay within ±20%', async () => {
    const randoms = [0, 1, 0.25];
    hub = new PollHub({ failureLimitMs: 10_000, perTenant: 100, random: () => randoms.shift() ?? 0.5 });
    const { spec, polls } = scripted([{ status: 'a' }, { status: 'b' }, { status: 'c' }, { status: 'd' }]);
    drain(hub.watch('t', 'order:1', () => spec));
    await vi.advanceTimersByTimeAsync(800 + 1200 + 900);
    expect(gaps(polls)).toEqual([800, 1200, 900]);
  });

  it('shares one loop between subscribers, gives a late one the current state, and stops with the last', async () => {
    const { spec, polls } = scripted([{ status: 'pending' }]);
    const first = hub.watch('t', 'order:1', () => spec);
    const a = drain(first);
    await vi.advanceTimersByTimeAsync(0);
    const second = hub.watch('t', 'order:1', () => scripted([{ status: 'never polled' }]).spec);
    const b = drain(second);
    await vi.advanceTimersByTimeAsync(3000);
    expect(hub.loops).toBe(1);
    expect(polls).toHaveLength(3);
    expect(a.seen).toEqual(['pending']);
    expect(b.seen).toEqual(['pending']);

    await first.return!();
    expect(hub.loops).toBe(1);
    await second.return!();
    expect(hub.loops).toBe(0);
    expect(hub.subscriptions).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(polls).toHaveLength(3);
  });

  it('polls no more when the last subscriber leaves while a poll is waiting for its answer', async () => {
    let answer!: (state: State) => void;
    let polls = 0;
    const spec: PollSpec<State> = {
      ...scripted([]).spec,
      poll: () => {
        polls += 1;
        return new Promise<State>((resolve) => (answer = resolve));
      },
    };
    const watcher = hub.watch('t', 'order:1', () => spec);
    const { seen } = drain(watcher);
    await vi.advanceTimersByTimeAsync(0);
    expect(polls).toBe(1);
    await watcher.return!();
    answer({ status: 'pending' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(polls).toBe(1);
    expect(seen).toEqual([]);
    expect(hub.loops).toBe(0);
  });

  it('completes every subscriber after a final state and stops polling', async () => {
    const { spec, polls } = scripted([{ status: 'pending' }, { status: 'done' }]);
    const a = drain(hub.watch('t', 'order:1', () => spec));
    const b = drain(hub.watch('t', 'order:1', () => spec));
    await vi.advanceTimersByTimeAsync(1000);
    expect(await a.ended).toBe('complete');
    expect(await b.ended).toBe('complete');
    expect(a.seen).toEqual(['pending', 'done']);
    expect(hub.loops).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(polls).toHaveLength(2);
  });

  it('keeps transient failures from subscribers while they last less than the limit', async () => {
    const { spec } = scripted([{ status: 'pending' }, unavailable(), unavailable(), unavailable(), { status: 'running' }]);
    const { seen, ended } = drain(hub.watch('t', 'order:1', () => spec));
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000);
    expect(seen).toEqual(['pending', 'running']);
    expect(hub.loops).toBe(1);
    hub.close();
    expect(await ended).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('tells subscribers UPSTREAM_UNAVAILABLE once failures outlast the limit', async () => {
    const { spec } = scripted([{ status: 'pending' }, unavailable()]);
    const { seen, ended } = drain(hub.watch('t', 'order:1', () => spec));
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000);
    expect(await ended).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(seen).toEqual(['pending']);
    expect(hub.loops).toBe(0);
  });

  it.each(['NOT_FOUND', 'UNAUTHENTICATED'] as const)('ends at once on %s', async (code) => {
    const { spec, polls } = scripted([{ status: 'pending' }, new GatewayError(code, 'no')]);
    const { ended } = drain(hub.watch('t', 'order:1', () => spec));
    await vi.advanceTimersByTimeAsync(1000);
    expect(await ended).toMatchObject({ code });
    expect(hub.loops).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(polls).toHaveLength(2);
  });

  it('fails a new watch of what the supplier did not find at once for 30 s, per tenant, then polls it again', async () => {
    const { spec, polls } = scripted([new GatewayError('NOT_FOUND', 'Order not found')]);
    expect(await drain(hub.watch('t', 'order:9', () => spec)).ended).toMatchObject({ code: 'NOT_FOUND' });
    expect(() => hub.watch('t', 'order:9', () => spec)).toThrow(expect.objectContaining({ code: 'NOT_FOUND', message: 'Order not found' }));
    expect(hub.subscriptions).toBe(0);
    expect(polls).toHaveLength(1);

    await drain(hub.watch('another tenant', 'order:9', () => spec)).ended;
    expect(polls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(30_001);
    await drain(hub.watch('t', 'order:9', () => spec)).ended;
    expect(polls).toHaveLength(3);
  });

  it('refuses a subscription past the tenant limit with RATE_LIMITED, per tenant', async () => {
    hub = new PollHub({ failureLimitMs: 10_000, perTenant: 2, random: () => 0.5 });
    const spec = () => scripted([{ status: 'pending' }]).spec;
    const held = [hub.watch('a', 'order:1', spec), hub.watch('a', 'order:2', spec)];
    expect(() => hub.watch('a', 'order:3', spec)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    expect(() => hub.watch('b', 'order:1', spec)).not.toThrow();
    await held[0]!.return!();
    expect(() => hub.watch('a', 'order:3', spec)).not.toThrow();
  });

  it('ends every subscriber on close with a retryable error, never completion, and refuses new ones after it', async () => {
    const { ended } = drain(hub.watch('t', 'order:1', () => scripted([{ status: 'pending' }]).spec));
    hub.close();
    expect(await ended).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', extensions: { reason: 'SHUTTING_DOWN' } });
    expect(hub.loops).toBe(0);
    expect(() => hub.watch('t', 'order:2', () => scripted([{ status: 'pending' }]).spec)).toThrow(
      expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE' }),
    );
    expect(hub.subscriptions).toBe(0);
  });

  it('keeps tenants apart: the same id under two tenants is two loops', () => {
    const spec = () => scripted([{ status: 'pending' }]).spec;
    hub.watch('a', 'order:1', spec);
    hub.watch('b', 'order:1', spec);
    expect(hub.loops).toBe(2);
  });
});

/**
 * Loops whose spec reads many ids at once: each read records its ids and the time, and answers
 * every id from `states` (an Error there is that id's own error).
 */
function batched(
  states: Map<string, State | Error>,
  options: { perCall?: number; fail?: () => Error | undefined; latencyMs?: number } = {},
) {
  const reads: Array<{ at: number; ids: string[] }> = [];
  // Reads answer one after another, each `latencyMs` after the one before, as through a key's line.
  let line = Promise.resolve();
  const spec = (id: string): PollSpec<State> => ({
    batch: {
      group: 'order',
      id,
      perCall: () => options.perCall ?? 100,
      read: async (ids) => {
        reads.push({ at: Date.now(), ids: [...ids] });
        if (options.latencyMs) await (line = line.then(() => new Promise((resolve) => setTimeout(resolve, options.latencyMs))));
        const failure = options.fail?.();
        if (failure) throw failure;
        return ids.map((one) => states.get(one) ?? { status: 'pending' });
      },
    },
    same: (a, b) => a.status === b.status,
    isFinal: (state) => state.status === 'done',
    intervalMs: 1000,
    maxIntervalMs: 8000,
  });
  return { spec, reads };
}

const readsWithin = (reads: Array<{ at: number }>, from: number, to: number) => reads.filter(({ at }) => at >= from && at < to).length;

describe('PollHub batches', () => {
  it('reads 250 orders started together in 3 calls of at most 100, and again each interval', async () => {
    hub = new PollHub({ failureLimitMs: 10_000, perTenant: 1000, random: () => 0.5 });
    const { spec, reads } = batched(new Map());
    for (let id = 1; id <= 250; id++) drain(hub.watch('t', `order:${id}`, () => spec(String(id))));
    await vi.advanceTimersByTimeAsync(50);
    expect(reads.map(({ ids }) => ids.length)).toEqual([100, 100, 50]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(Math.max(...reads.map(({ ids }) => ids.length))).toBe(100);
    // Nothing changes: the loops back off together, to one round per maximum interval.
    expect(readsWithin(reads, 16_000, 24_000)).toBe(3);
    expect(new Set(reads.flatMap(({ ids }) => ids)).size).toBe(250);
  });

  it('brings 1,000 loops started apart into one round of 10 calls an interval, with real jitter', async () => {
    let seed = 1;
    hub = new PollHub({ failureLimitMs: 10_000, perTenant: 1000, random: () => (seed = (seed * 16807) % 2147483647) / 2147483647 });
    const states = new Map<string, State>();
    const { spec, reads } = batched(states, { latencyMs: 40 });
    // Subscriptions started over 600 ms, as a client opening them one after another does; each
    // call takes 40 ms, after the one before.
    for (let id = 1; id <= 1000; id++) {
      drain(hub.watch('t', `order:${id}`, () => spec(String(id))));
      if (id % 5 === 0) await vi.advanceTimersByTimeAsync(3);
    }
    // Every order changes every second, so no loop backs off: from its second poll, each loop
    // is in the group's one round a second.
    for (let second = 0; second < 20; second++) {
      for (let id = 1; id <= 1000; id++) states.set(String(id), { status: `s${second}` });
      await vi.advanceTimersByTimeAsync(1000);
    }
    // Ten rounds in ten seconds (one more where the window cuts a round in two), each of 10 full calls.
    const lastTen = reads.filter(({ at }) => at >= Date.now() - 10_000);
    expect(lastTen.length).toBeGreaterThanOrEqual(100);
    expect(lastTen.length).toBeLessThanOrEqual(110);
    expect(lastTen.every(({ ids }) => ids.length === 100)).toBe(true);
  });

  it('ends only the loop whose id the supplier does not know, and tells its subscriber', async () => {
    const { spec, reads } = batched(new Map([['2', new GatewayError('NOT_FOUND', 'Order not found')]]));
    const one = drain(hub.watch('t', 'order:1', () => spec('1')));
    const two = drain(hub.watch('t', 'order:2', () => spec('2')));
    await vi.advanceTimersByTimeAsync(50);
    expect(reads).toHaveLength(1);
    expect(await two.ended).toMatchObject({ code: 'NOT_FOUND' });
    expect(one.seen).toEqual(['pending']);
    expect(hub.loops).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads.at(-1)!.ids).toEqual(['1']);
  });

  it('retries a round that failed as a whole, and tells subscribers past the failure limit', async () => {
    let failing = true;
    const { spec, reads } = batched(new Map(), { fail: () => (failing ? unavailable() : undefined) });
    const one = drain(hub.watch('t', 'order:1', () => spec('1')));
    // Failures back off as unchanged states do: reads at 20 ms and 2,020 ms.
    await vi.advanceTimersByTimeAsync(50 + 2000);
    expect(reads.length).toBe(2);
    failing = false;
    await vi.advanceTimersByTimeAsync(4000);
    expect(one.seen).toEqual(['pending']);
    failing = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await one.ended).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('reads no more of a loop whose last subscriber left, and nothing once every loop is gone', async () => {
    const { spec, reads } = batched(new Map());
    const one = hub.watch('t', 'order:1', () => spec('1'));
    const two = hub.watch('t', 'order:2', () => spec('2'));
    drain(one);
    drain(two);
    await vi.advanceTimersByTimeAsync(50);
    await one.return!();
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads.at(-1)!.ids).toEqual(['2']);
    await two.return!();
    const count = reads.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reads).toHaveLength(count);
    expect(hub.loops).toBe(0);
  });

  it('fills a call with loops not yet due, but not when the supplier reads one id per call', async () => {
    for (const perCall of [100, 1]) {
      hub.close();
      hub = new PollHub({ failureLimitMs: 10_000, perTenant: 100, random: () => 0.5 });
      const states = new Map<string, State>();
      const { spec, reads } = batched(states, { perCall });
      drain(hub.watch('t', 'order:1', () => spec('1')));
      drain(hub.watch('t', 'order:2', () => spec('2')));
      await vi.advanceTimersByTimeAsync(50);
      // Order 1 changes each second and is polled each second; order 2 never does and backs off.
      for (let second = 0; second < 16; second++) {
        states.set('1', { status: `s${second}` });
        await vi.advanceTimersByTimeAsync(1000);
      }
      const twos = reads.filter(({ ids }) => ids.includes('2')).length;
      if (perCall === 100) {
        expect(twos).toBe(reads.length);
        expect(reads.every(({ ids }) => ids.length === 2)).toBe(true);
      } else {
        expect(twos).toBeLessThan(8);
        expect(reads.every(({ ids }) => ids.length === 1)).toBe(true);
      }
    }
  });

  it('never reads two tenants in one call', async () => {
    const { spec, reads } = batched(new Map());
    drain(hub.watch('a', 'order:1', () => spec('1')));
    drain(hub.watch('b', 'order:2', () => spec('2')));
    await vi.advanceTimersByTimeAsync(50);
    expect(reads.map(({ ids }) => ids)).toEqual([['1'], ['2']]);
  });
});
