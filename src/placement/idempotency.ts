/**
 * Idempotency keys for money-spending mutations, after Stripe's and the IETF Idempotency-Key
 * draft: the first request claims the key atomically (across instances, with Redis); a repeat
 * while it runs waits for its outcome; a repeat afterwards gets the recorded outcome, an
 * ambiguous one included, never a blind re-run; the same key with other input is refused.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { badInput, GatewayError, type ErrorCode } from '../errors.ts';
import type { IdempotencyScope, IdempotencyStore, Outcome } from '../state/store.ts';

const MAX_KEY_LENGTH = 255;

/** How often a repeat looks again while the first request is in flight. */
const WAIT_STEP_MS = { first: 10, max: 200 };

export interface IdempotencyPolicy {
  /** How long a repeat waits for the first request's outcome before answering `inFlight`. */
  waitMs: number;
  /** A claim older than this belongs to an instance that died mid-request: its order may exist. */
  leaseMs: number;
}

/**
 * A failure that proves nothing was placed (an answer before the action ran, a supplier error
 * text, the gateway's own checks) frees the key; an ambiguous one is recorded like a success.
 */
export function mayHavePlaced(error: unknown): boolean {
  return error instanceof GatewayError && error.extensions.orderMayExist === true;
}

const ABANDONED: Outcome = {
  ok: false,
  message: 'The request that first used this idempotencyKey was cut off while placing it: the order may exist.',
  extensions: { code: 'UPSTREAM_UNAVAILABLE', orderMayExist: true },
};

function replay<T>(outcome: Outcome): T {
  if (outcome.ok) return outcome.value as T;
  const { code, ...extensions } = outcome.extensions;
  throw new GatewayError(code as ErrorCode, outcome.message, { extensions: { ...extensions, replayed: true } });
}

const record = (error: unknown): Outcome =>
  error instanceof GatewayError ? { ok: false, message: error.message, extensions: { ...error.extensions } } : ABANDONED;

export interface Idempotent {
  store: IdempotencyStore;
  policy: IdempotencyPolicy;
  /** Told when an outcome could not be recorded after the work ran; the answer still goes back. */
  onUnrecorded: (error: unknown) => void;
  /** Told when a repeat is answered with a recorded outcome. */
  onReplay?: () => void;
}

/** Runs `work` at most once per (caller, mutation, key); without a key it just runs. */
export async function idempotent<T>(
  { store, policy, onUnrecorded, onReplay }: Idempotent,
  scope: Omit<IdempotencyScope, 'key'> & { key: string | null | undefined },
  input: object,
  work: () => Promise<T>,
): Promise<T> {
  if (scope.key === null || scope.key === undefined) return work();
  const key = scope.key.trim();
  if (key === '' || key.length > MAX_KEY_LENGTH) {
    throw badInput(`idempotencyKey must be 1 to ${MAX_KEY_LENGTH} characters.`, { field: 'idempotencyKey' });
  }
  const at = { ...scope, key };
  const fingerprint = JSON.stringify(input);
  const giveUpAt = Date.now() + policy.waitMs;
  for (let step = WAIT_STEP_MS.first; ; step = Math.min(step * 2, WAIT_STEP_MS.max)) {
    const claim = randomUUID();
    const existing = await store.claim(at, fingerprint, claim, policy.leaseMs);
    if (!existing) return run(store, at, { claim, fingerprint }, work, onUnrecorded);
    if (existing.fingerprint !== fingerprint) {
      throw badInput('This idempotencyKey was already used with different input.', { field: 'idempotencyKey' });
    }
    if (existing.state === 'done') {
      onReplay?.();
      return replay(existing.outcome);
    }
    if (existing.leaseUntil < Date.now()) {
      const now = await store.abandon(at, existing.claim, fingerprint, ABANDONED);
      if (now?.state === 'done') {
        onReplay?.();
        return replay(now.outcome);
      }
      continue;
    }
    if (Date.now() >= giveUpAt) {
      throw new GatewayError('UPSTREAM_UNAVAILABLE', 'A request with this idempotencyKey is still being placed: ask again in a moment.', {
        extensions: { inFlight: true },
      });
    }
    await sleep(step);
  }
}

async function run<T>(
  store: IdempotencyStore,
  scope: IdempotencyScope,
  { claim, fingerprint }: { claim: string; fingerprint: string },
  work: () => Promise<T>,
  onUnrecorded: (error: unknown) => void,
) {
  let value: T;
  try {
    value = await work();
  } catch (error) {
    const settled = mayHavePlaced(error) ? store.settle(scope, claim, fingerprint, record(error)) : store.release(scope, claim);
    await settled.catch(onUnrecorded);
    throw error;
  }
  await store.settle(scope, claim, fingerprint, { ok: true, value }).catch(onUnrecorded);
  return value;
}
