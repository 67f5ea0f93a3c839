/**
 * When a failed delivery is tried again: the Standard Webhooks schedule, each delay ±10% so that
 * the deliveries of one outage do not all come back at the same instant, and never sooner than the
 * receiver's `Retry-After`. After the last retry fails the delivery is FAILED. An endpoint that has
 * failed for five days without a success is disabled.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The delay before each retry, from the first failure. Standard Webhooks' schedule begins with
 * "immediately": that is the first attempt itself, so 10 attempts in all.
 */
export const RETRY_DELAYS_MS = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR];

/** No success for this long while attempts fail disables the endpoint. */
export const DISABLE_AFTER_MS = 5 * 24 * HOUR;

const JITTER = 0.1;

/** A `Retry-After` longer than the longest delay is taken as the longest delay. */
const RETRY_AFTER_MAX_MS = RETRY_DELAYS_MS.at(-1)!;

export interface RetryPolicy {
  /** A factor on every delay (WEBHOOK_RETRY_SCALE): tests make the schedule pass in milliseconds. */
  scale: number;
  random?: () => number;
}

/**
 * The delay before the next attempt after `attempts` attempts failed, or undefined when none is
 * left. `retryAfterMs` (the receiver's) wins when longer.
 */
export function retryDelay(attempts: number, policy: RetryPolicy, retryAfterMs?: number): number | undefined {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return undefined;
  const jitter = 1 - JITTER + 2 * JITTER * (policy.random ?? Math.random)();
  return Math.round(Math.max(base * policy.scale * jitter, Math.min(retryAfterMs ?? 0, RETRY_AFTER_MAX_MS)));
}

/** A `Retry-After` header, seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * SECOND;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
