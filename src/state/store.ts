/**
 * What the gateway must not lose: idempotency records and the ledger of placements, with the
 * ownership of orders it implies. In this process (memory.ts) or in Redis (redis.ts), behind
 * these small interfaces.
 */
import { GatewayError } from '../errors.ts';
import type { Money, NewOrder, NewSmsOrder } from '../supplier/types.ts';

/** One caller's use of one idempotency key for one mutation. */
export interface IdempotencyScope {
  tenant: string;
  caller: string;
  mutation: string;
  key: string;
}

/** What a finished mutation answered: its value, or the error a repeat must see again. */
export type Outcome = { ok: true; value: unknown } | { ok: false; message: string; extensions: Record<string, unknown> };

export type IdempotencyRecord =
  { state: 'pending'; fingerprint: string; claim: string; leaseUntil: number } | { state: 'done'; fingerprint: string; outcome: Outcome };

export interface IdempotencyStore {
  /**
   * Atomically claims the scope for this claim id (resolves undefined), or resolves the record
   * already there. A claim that fails holds nothing: if it takes effect after all, it is released.
   */
  claim(scope: IdempotencyScope, fingerprint: string, claim: string, leaseMs: number): Promise<IdempotencyRecord | undefined>;
  /**
   * Records the outcome of this claim. The outcome is the truth, so it is written even where the
   * claim is gone (a Redis restart without persistence lost it); rejects with
   * OutcomeNotRecordedError when another request holds the key.
   */
  settle(scope: IdempotencyScope, claim: string, fingerprint: string, outcome: Outcome): Promise<void>;
  /** Frees the key of a claim that is still pending, leaving nothing of it behind: nothing was placed. */
  release(scope: IdempotencyScope, claim: string): Promise<void>;
  /** Replaces a pending claim whose lease has passed with this outcome; resolves what is there now. */
  abandon(scope: IdempotencyScope, claim: string, fingerprint: string, outcome: Outcome): Promise<IdempotencyRecord | undefined>;
  read(scope: IdempotencyScope): Promise<IdempotencyRecord | undefined>;
}

/**
 * An outcome found its key held by another request: its claim was lost (a Redis restart without
 * persistence) and a retry claimed the key anew, or its lease passed and it was taken as abandoned.
 */
export class OutcomeNotRecordedError extends Error {
  override name = 'OutcomeNotRecordedError';
  constructor() {
    super('Another request holds this idempotency key: the outcome of the placement was not recorded under it.');
  }
}

type PlacementOutcome = 'PLACED' | 'UNCONFIRMED';

interface PlacementBase {
  id: string;
  tenant: string;
  /** Who owns what it placed: the caller, or the customer a backend placed it for. */
  caller: string;
  /** The backend that placed it for the customer `caller` (`onBehalfOf`); it reads it too. */
  placedBy?: string;
  idempotencyKey: string | null;
  /** ISO-8601. */
  placedAt: string;
  outcome: PlacementOutcome;
  /** The supplier's ids; empty while UNCONFIRMED. */
  orderIds: string[];
}

/** A refill is free: its entry is what makes its caller own it, and what says which order it refills. */
export type Placement =
  | (PlacementBase & { kind: 'order'; input: NewOrder; estimate: Money })
  | (PlacementBase & { kind: 'sms'; input: NewSmsOrder; estimate: Money })
  | (PlacementBase & { kind: 'refill'; input: NewRefill });

interface NewRefill {
  orderId: string;
}

export type PlacementKind = Placement['kind'];

export interface LedgerPage {
  placements: Placement[];
  hasNextPage: boolean;
  totalCount: number;
}

export interface Ledger {
  /**
   * Writes the entry of a placement about to spend (UNCONFIRMED). A failure refuses the spend, so
   * an entry that is written after all is removed: a refused placement is never listed.
   */
  open(placement: Placement): Promise<void>;
  /** Writes a placement's outcome over its entry, kept however late it lands; a PLACED one makes its caller own its orders. */
  put(placement: Placement): Promise<void>;
  remove(placement: Placement): Promise<void>;
  /** Newest first; `after` is the id of the last placement of the previous page. */
  page(owner: { tenant: string; caller: string }, kind: PlacementKind, first: number, after?: string): Promise<LedgerPage>;
  /**
   * The callers that may see each order, in the order of `ids`: its owner, and the backend that
   * placed it for them; undefined when not placed through this gateway.
   */
  owners(tenant: string, kind: PlacementKind, ids: readonly string[]): Promise<Array<string[] | undefined>>;
  /** The PLACED entry that made each of these orders (or refills), in the order of `ids`; undefined when not placed through this gateway. */
  placementsOf(tenant: string, kind: PlacementKind, ids: readonly string[]): Promise<Array<Placement | undefined>>;
}

/**
 * What each capped caller spent per day (SPEND_LIMIT_PER_DAY), as whole units of 10^-10 of the
 * account's currency, so that sums are exact.
 */
export interface SpendCounter {
  /** Adds `amount` to the caller's day unless the sum would pass `limit`; resolves whether it did and the sum now. */
  reserve(tenant: string, caller: string, day: string, amount: bigint, limit: bigint): Promise<{ reserved: boolean; spent: bigint }>;
  /** Adds `delta` to the caller's day: negative to give back what was not spent. */
  adjust(tenant: string, caller: string, day: string, delta: bigint): Promise<void>;
  spent(tenant: string, caller: string, day: string): Promise<bigint>;
}

export interface StateStore {
  kind: 'memory' | 'redis';
  /** False while the store cannot be reached. */
  readonly ready: boolean;
  /** True after a command missed its deadline, until the store answers quickly again. */
  readonly slow: boolean;
  idempotency: IdempotencyStore;
  ledger: Ledger;
  spends: SpendCounter;
  close(): Promise<void>;
}

/** How long records are kept and how many per caller: the contract's settings. */
export interface StatePolicy {
  idempotencyTtlSeconds: number;
  idempotencyMaxPerCaller: number;
  ledgerRetentionDays: number;
}

/** The store could not be read or written: money-spending mutations are refused, never run blind. */
export function stateStoreUnavailable(cause?: unknown): GatewayError {
  return new GatewayError('UPSTREAM_UNAVAILABLE', "The gateway's state store is unavailable; try again shortly.", {
    cause,
    extensions: { reason: 'STATE_STORE' },
  });
}

export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}
