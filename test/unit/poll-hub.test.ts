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
