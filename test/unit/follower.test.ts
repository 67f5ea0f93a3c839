/** How the follower backs off an id that does not change. */
import { expect, it } from 'vitest';
import { nextInterval } from '../../src/events/follower.ts';

it('polls at the poll interval while an id changes, doubling while it stays the same, up to the longest', () => {
  const quiet = [0, 4_999, 5_000, 10_000, 19_999, 20_000, 40_000, 80_000, 10 ** 9];
  expect(quiet.map((ms) => nextInterval(5_000, 60_000, ms))).toEqual([5_000, 5_000, 5_000, 10_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
});
