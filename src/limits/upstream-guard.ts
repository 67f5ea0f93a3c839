/**
 * What stands between callers and the supplier, so that no caller can exhaust the supplier
 * account, the connection pool or its own welcome:
 *
 * - a circuit breaker for the supplier's origin: after a run of failures calls fail fast, a probe
 *   half-opens it, a success closes it;
 * - a bulkhead per key: a bound on one key's calls in flight and waiting, so one tenant cannot
 *   take the whole pool from the others;
 * - Retry-After honoured per key: after a 429 that key's calls wait out the supplier's window
 *   instead of adding to the flood;
 * - rejected keys remembered: a key the supplier called invalid costs no second call for a while.
 */
import { createHash } from 'node:crypto';
import {
  BrokenCircuitError,
  BulkheadPolicy,
  BulkheadRejectedError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { LRUCache } from 'lru-cache';
import { GatewayError, isGatewayError } from '../errors.ts';

/** Keys another instance found rejected (Redis): a key one instance found rejected costs the others no call. */
export interface RejectedKeys {
  rejected(digest: string): Promise<boolean>;
  reject(digest: string, ms: number): Promise<void>;
}

export interface GuardPolicy {
  /** Calls of one key at once; beyond them calls wait in line. */
  concurrencyPerKey: number;
  /** Calls of one key waiting for a slot; beyond them RATE_LIMITED. */
  queuePerKey: number;
  /** Consecutive unavailable answers that open the circuit. */
  circuitFailures: number;
  /** How long the circuit stays open before one probe call is let through. */
  circuitHalfOpenMs: number;
}

/**
 * How long the supplier's answer on a key (its standing) is remembered: a rejected key for a minute, so a client
 * retrying a bad key costs no call, while a key just made valid works again soon; an accepted one
 * for 5 minutes, so a reconnecting WebSocket client costs no call either.
 */
const REJECTED_KEY_MS = 60_000;
const ACCEPTED_KEY_MS = 5 * 60_000;
/** A Retry-After the supplier did not give, or gave out of reason, becomes this window. */
const RETRY_AFTER_MS = { fallback: 1000, max: 60_000 };
/** Keys whose bulkhead, throttle or standing is remembered at once. */
const KEYS_TRACKED = 10_000;

/** Keys are looked up by digest, so no key sits in memory beyond the call that uses it. */
const digest = (key: string) => createHash('sha256').update(key).digest('base64url');

export class UpstreamGuard {
  readonly #breaker: CircuitBreakerPolicy;
  readonly #bulkheads: LRUCache<string, BulkheadPolicy>;
  readonly #throttled = new LRUCache<string, number>({ max: KEYS_TRACKED });
  readonly #rejected = new LRUCache<string, true>({ max: KEYS_TRACKED, ttl: REJECTED_KEY_MS });
  readonly #accepted = new LRUCache<string, true>({ max: KEYS_TRACKED, ttl: ACCEPTED_KEY_MS });
  /** The first call of a key the supplier has not answered lately, which the key's other calls wait for. */
  readonly #probes = new Map<string, Promise<unknown>>();

  constructor(
    private readonly policy: GuardPolicy,
    private readonly shared?: RejectedKeys,
  ) {
    this.#breaker = circuitBreaker(
      handleWhen((error) => isGatewayError(error, 'UPSTREAM_UNAVAILABLE')),
      { halfOpenAfter: policy.circuitHalfOpenMs, breaker: new ConsecutiveBreaker(policy.circuitFailures) },
    );
    // The least recently used key goes first: one still busy among thousands of newer keys is
    // not a case worth more than this.
    this.#bulkheads = new LRUCache({ max: KEYS_TRACKED });
  }

  /** Whether the circuit is open: the supplier is taken as down and calls fail fast. */
  get circuitOpen(): boolean {
    return this.#breaker.state === CircuitState.Open || this.#breaker.state === CircuitState.Isolated;
  }

  /** What the supplier said of this key lately: true (it answered), false (it rejected it), or undefined. */
  standing(key: string): boolean | undefined {
    const id = digest(key);
    if (this.#rejected.has(id)) return false;
    return this.#accepted.has(id) ? true : undefined;
  }

  /**
   * Runs one supplier call for `key` (all its attempts), under every guard; `signal` is its
   * deadline. While a key the supplier has not answered lately is being tried, its other calls
   * wait for its standing, so a made-up key costs one call however wide the query.
   */
  async run<T>(key: string, action: string, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
    const id = digest(key);
    const probe = this.#probes.get(id);
    if (probe) await probe.catch(() => undefined);
    if (this.#accepted.has(id) || this.#rejected.has(id)) return this.#run(id, action, signal, call);
    // Registered before anything is awaited, so the key's other calls wait for this one.
    const first = (async () => {
      if (this.shared && (await this.shared.rejected(id).catch(() => false))) this.#rejected.set(id, true);
      return this.#run(id, action, signal, call);
    })();
    this.#probes.set(id, first);
    try {
      return await first;
    } finally {
      if (this.#probes.get(id) === first) this.#probes.delete(id);
    }
  }

  async #run<T>(id: string, action: string, signal: AbortSignal, call: () => Promise<T>): Promise<T> {
    // Checked again as a call leaves the key's line: what the calls before it learned counts.
    const permitted = () => {
      if (this.#rejected.has(id))
        throw new GatewayError('UNAUTHENTICATED', 'The supplier rejected the API key.', { extensions: { action } });
      const until = this.#throttled.get(id) ?? 0;
      if (until > Date.now())
        throw rateLimited(until - Date.now(), 'The supplier is rate limiting requests of this key.', { reason: 'SUPPLIER' });
    };
    permitted();
    try {
      const answer = await this.#breaker.execute(() =>
        inLine(
          this.#bulkhead(id),
          () => {
            permitted();
            return call();
          },
          signal,
        ),
      );
      this.#accepted.set(id, true);
      return answer;
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new GatewayError('UPSTREAM_UNAVAILABLE', 'The supplier is unavailable (circuit open after repeated failures).', {
          extensions: { action, reason: 'CIRCUIT_OPEN' },
        });
      }
      if (error instanceof BulkheadRejectedError) throw tooManyAtOnce();
      if (isGatewayError(error, 'UNAUTHENTICATED')) {
        this.#rejected.set(id, true);
        this.#accepted.delete(id);
        void this.shared?.reject(id, REJECTED_KEY_MS).catch(() => undefined);
      } else if (error instanceof GatewayError && error.extensions.upstreamMessage !== undefined) {
        this.#accepted.set(id, true); // a supplier error text other than a bad key: the key is good
      }
      if (error instanceof SupplierRateLimit) this.#throttled.set(id, Date.now() + error.retryMs);
      throw error;
    }
  }

  #bulkhead(id: string): BulkheadPolicy {
    let bulkhead = this.#bulkheads.get(id);
    if (!bulkhead) this.#bulkheads.set(id, (bulkhead = new BulkheadPolicy(this.policy.concurrencyPerKey, this.policy.queuePerKey)));
    return bulkhead;
  }
}

/** The supplier's own 429: its Retry-After window is honoured for the key that met it. */
export class SupplierRateLimit extends GatewayError {
  constructor(readonly retryMs: number) {
    super('RATE_LIMITED', 'The supplier is rate limiting requests.', {
      extensions: { retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)), reason: 'SUPPLIER' },
    });
  }
}

const tooManyAtOnce = () =>
  rateLimited(RETRY_AFTER_MS.fallback, 'Too many supplier calls of this key at once.', { reason: 'SUPPLIER_CONCURRENCY' });

/** A Retry-After header (seconds or an HTTP date) as milliseconds from now, within reason. */
export function retryAfterMs(header: string | string[] | undefined): number {
  const raw = Array.isArray(header) ? header[0] : header;
  const seconds = raw !== undefined && /^\d+$/.test(raw.trim()) ? Number(raw) * 1000 : raw ? Date.parse(raw) - Date.now() : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, RETRY_AFTER_MS.max) : RETRY_AFTER_MS.fallback;
}

export function rateLimited(retryMs: number, message: string, extensions: Record<string, unknown> = {}): GatewayError {
  return new GatewayError('RATE_LIMITED', message, {
    extensions: { retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)), ...extensions },
  });
}

/**
 * A call still waiting in its key's line gives up at its deadline, as RATE_LIMITED: the supplier
 * did nothing wrong, this key asked too much at once. A call that started has its own deadline.
 */
function inLine<T>(bulkhead: BulkheadPolicy, call: () => Promise<T>, signal: AbortSignal): Promise<T> {
  const tooLong = tooManyAtOnce;
  if (signal.aborted) return Promise.reject(tooLong());
  let started = false;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      if (!started) reject(tooLong());
    };
    signal.addEventListener('abort', abort, { once: true });
    bulkhead
      .execute(() => {
        started = true;
        return call();
      }, signal)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', abort));
  });
}
