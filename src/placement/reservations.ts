/**
 * Money promised to placements the supplier's balance may not show yet. Fifty orders checked at
 * once against one balance read would all pass; each estimate is held per tenant from its check
 * until a balance read that started after its spend ended, which shows the charge itself. Held
 * in this process: instances sharing a key each hold their own.
 */
import Big from 'big.js';
import type { Balance, Decimal } from '../supplier/types.ts';
import { ensureCovers } from './money.ts';

interface Reservation {
  estimate: Decimal;
  /** When its spend ended; undefined while it runs. */
  endedAt?: number;
}

/** Ended reservations are forgotten after this: no balance read in use is that old. */
const FORGET_AFTER_MS = 60_000;

export interface Hold {
  /** The spend ended: `charged` when money may have gone (placed, or maybe placed), false when nothing was placed. */
  end(charged: boolean): void;
}

export class Reservations {
  readonly #byTenant = new Map<string, Set<Reservation>>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Holds `estimate` if the balance read at `readAt`, less what is held and not yet shown in that
   * read, covers it; INSUFFICIENT_BALANCE otherwise. Check and hold are one synchronous step.
   */
  hold(tenant: string, balance: Balance, readAt: number, estimate: Decimal, what: string, figures = true): Hold {
    const held = this.#held(tenant);
    const unseen = [...held].filter((reservation) => reservation.endedAt === undefined || reservation.endedAt >= readAt);
    const reserved = unseen.reduce((sum, reservation) => sum.plus(reservation.estimate), new Big(0));
    ensureCovers({ ...balance, amount: new Big(balance.amount).minus(reserved).toFixed() }, estimate, what, figures);
    const reservation: Reservation = { estimate };
    held.add(reservation);
    return {
      end: (charged) => {
        if (charged) reservation.endedAt = this.now();
        else held.delete(reservation);
      },
    };
  }

  #held(tenant: string): Set<Reservation> {
    let held = this.#byTenant.get(tenant);
    if (!held) this.#byTenant.set(tenant, (held = new Set()));
    const cutoff = this.now() - FORGET_AFTER_MS;
    for (const reservation of held) if (reservation.endedAt !== undefined && reservation.endedAt < cutoff) held.delete(reservation);
    return held;
  }
}
