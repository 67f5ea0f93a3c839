/**
 * Idempotency records for money-spending mutations: the first call with a key does the work, a
 * repeat gets the same result (or waits for the first while it is in flight). Per tenant, bounded.
 */
import { LRUCache } from 'lru-cache';
import { GatewayError, badInput } from './errors.ts';

export interface IdempotencyStore {
  run<T>(scope: string, fingerprint: string, work: () => Promise<T>): Promise<T>;
}

interface Run {
  fingerprint: string;
  result: Promise<unknown>;
}

/**
 * A failure that proves nothing was placed frees the key for a retry; an ambiguous one (the
 * request may have reached the supplier) keeps it, so a blind retry cannot place a second order.
 */
function placedNothing(error: unknown): boolean {
  return !(error instanceof GatewayError) || error.extensions.orderMayExist !== true;
}

export class LruIdempotencyStore implements IdempotencyStore {
  readonly #runs: LRUCache<string, Run>;

  constructor(options: { ttlSeconds: number; maxEntries: number }) {
    this.#runs = new LRUCache<string, Run>({ max: options.maxEntries, ttl: options.ttlSeconds * 1000 });
  }

  run<T>(scope: string, fingerprint: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#runs.get(scope);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        return Promise.reject(
          badInput('This idempotencyKey was already used with different input.', { field: 'idempotencyKey' }),
        );
      }
      return previous.result as Promise<T>;
    }
    const result = work();
    this.#runs.set(scope, { fingerprint, result });
    result.catch((error: unknown) => {
      if (placedNothing(error) && this.#runs.get(scope)?.result === result) this.#runs.delete(scope);
    });
    return result;
  }
}

const MAX_KEY_LENGTH = 255;

/** Runs a money-spending mutation at most once per (tenant, mutation, idempotencyKey); no key, no record. */
export function idempotent<T>(
  store: IdempotencyStore,
  scope: { tenant: string; mutation: string; key: string | null | undefined },
  input: object,
  work: () => Promise<T>,
): Promise<T> {
  if (scope.key === null || scope.key === undefined) return work();
  const key = scope.key.trim();
  if (key === '' || key.length > MAX_KEY_LENGTH) {
    throw badInput(`idempotencyKey must be 1 to ${MAX_KEY_LENGTH} characters.`, { field: 'idempotencyKey' });
  }
  return store.run(`${scope.tenant}\u0000${scope.mutation}\u0000${key}`, JSON.stringify(input), work);
}
