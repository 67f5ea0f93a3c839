/** A token's expiry timer: setTimeout fires at once past 2^31-1 ms, so a far expiry must wait anyway. */
import { afterEach, expect, it, vi } from 'vitest';
import { atExpiry } from '../../src/auth/jwt.ts';

afterEach(() => {
  vi.useRealTimers();
});

it('waits for an expiry 30 days off, and fires then', async () => {
  vi.useFakeTimers({ now: 0 });
  const DAY = 86_400_000;
  let expired = false;
  atExpiry(30 * DAY, () => (expired = true));
  await vi.advanceTimersByTimeAsync(29 * DAY);
  expect(expired).toBe(false);
  await vi.advanceTimersByTimeAsync(DAY);
  expect(expired).toBe(true);
});

it('fires nothing once cancelled', async () => {
  vi.useFakeTimers({ now: 0 });
  let expired = false;
  const cancel = atExpiry(1000, () => (expired = true));
  cancel();
  await vi.advanceTimersByTimeAsync(2000);
  expect(expired).toBe(false);
});
