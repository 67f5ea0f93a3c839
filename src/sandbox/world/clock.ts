export interface Clock {
  /** Sandbox time in epoch milliseconds. */
  now(): number;
  /** Callers check that seconds is finite and not negative. */
  advance(seconds: number): void;
}

/**
 * Sandbox time starts at the real start time, so dates look real, then runs `timeScale` times
 * faster (0 freezes it) plus whatever `advance` added. It never goes back: life cycles derive from it.
 */
export function createClock(timeScale: number, realNow: () => number = () => performance.now()): Clock {
  const epoch = Date.now();
  const start = realNow();
  let offsetMs = 0;
  return {
    now: () => epoch + (realNow() - start) * timeScale + offsetMs,
    advance(seconds) {
      offsetMs += seconds * 1000;
    },
  };
}
