import { SandboxInputError } from '../errors.ts';
import { mulberry32, seedFor } from '../world/random.ts';
import type { Order } from './orders.ts';

type RefillOutcome = 'completed' | 'rejected';
type RefillPhase = 'pending' | 'inProgress' | RefillOutcome;

export interface RefillPatch {
  outcome?: RefillOutcome;
  /** Answered verbatim as `status`, to test clients against statuses they do not know. */
  rawStatus?: string;
}

export interface Refill {
  id: number;
  order: Order;
  pendingEnd: number;
  finalAt: number;
  outcome: RefillOutcome;
  rawStatus?: string;
}

/** In sandbox seconds: a refill waits, then runs; it ends Completed or Rejected. */
const REFILL_PENDING = 30;
const REFILL_RUN = 150;
const REFILL_SALT = 11;

/** The words of the API v2 family for a refill, the same in every flavour. */
export const REFILL_STATUSES: Readonly<Record<RefillPhase, string>> = {
  pending: 'Pending',
  inProgress: 'In progress',
  completed: 'Completed',
  rejected: 'Rejected',
};

export function createRefill(id: number, order: Order, now: number, seed: number, rejectShare: number): Refill {
  const rejected = mulberry32(seedFor(seed, REFILL_SALT, id))() < rejectShare;
  return {
    id,
    order,
    pendingEnd: now + REFILL_PENDING * 1000,
    finalAt: now + (REFILL_PENDING + REFILL_RUN) * 1000,
    outcome: rejected ? 'rejected' : 'completed',
  };
}

export function refillPhase(refill: Refill, now: number): RefillPhase {
  if (now >= refill.finalAt) return refill.outcome;
  return now < refill.pendingEnd ? 'pending' : 'inProgress';
}

/** Refills move no money and no stock, so forcing one changes only how it ends. */
export function patchRefill(refill: Refill, patch: RefillPatch, now: number): void {
  if (patch.outcome) {
    if (now >= refill.finalAt) throw new SandboxInputError(`refill ${refill.id} is already final`, 409);
    refill.outcome = patch.outcome;
  }
  if (patch.rawStatus !== undefined) refill.rawStatus = patch.rawStatus;
}
