import { describe, expect, it } from 'vitest';
import { Channel } from '../../src/subscriptions/channel.ts';
import { merge } from '../../src/subscriptions/merge.ts';

function channels(count: number) {
  const left: number[] = [];
  const list = Array.from({ length: count }, (_, i) => new Channel<string>(() => left.push(i)));
  return { list, left };
}

describe('merge', () => {
  it('interleaves values as they come and ends when every source has ended', async () => {
    const { list } = channels(2);
    const merged = merge(list);
    list[1]!.push('b1');
    expect(await merged.next()).toEqual({ value: 'b1', done: false });
    list[0]!.push('a1');
    list[0]!.end();
    expect(await merged.next()).toEqual({ value: 'a1', done: false });
    list[1]!.push('b2');
    list[1]!.end();
    expect(await merged.next()).toEqual({ value: 'b2', done: false });
    expect(await merged.next()).toEqual({ value: undefined, done: true });
  });

  it('closes every source when returned before the first value was asked for', async () => {
    const { list, left } = channels(3);
    await merge(list).return!();
    expect(left.sort()).toEqual([0, 1, 2]);
  });

  it('fails with the first error and closes the other sources', async () => {
    const { list, left } = channels(3);
    const merged = merge(list);
    list[2]!.fail(new Error('boom'));
    await expect(merged.next()).rejects.toThrow('boom');
    expect(left.sort()).toEqual([0, 1, 2]);
    expect(await merged.next()).toEqual({ value: undefined, done: true });
  });

  it('holds a failure that comes while the consumer is busy until it asks again', async () => {
    const { list, left } = channels(2);
    const merged = merge(list);
    list[0]!.push('a1');
    expect(await merged.next()).toEqual({ value: 'a1', done: false });
    // No next() is pending, and source 0 was asked again after its value: its failure must wait,
    // not become an unhandled rejection, which Node reports before the next turn of its loop.
    list[0]!.fail(new Error('late'));
    await new Promise(setImmediate);
    await expect(merged.next()).rejects.toThrow('late');
    expect(left.sort()).toEqual([0, 1]);
  });

  it('ends a next() that is waiting when it is returned', async () => {
    const { list } = channels(2);
    const merged = merge(list);
    const waiting = merged.next();
    await merged.return!();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });
});
