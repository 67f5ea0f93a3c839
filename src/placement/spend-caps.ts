/**
 * Spend caps of signed-in customers: what one customer may spend a day (SPEND_LIMIT_PER_DAY, or
 * its own from JWT_SPEND_LIMIT_CLAIM), counted per UTC day in the state store, so that with Redis
 * two instances cannot both let the last placement through. A placement's estimate is reserved
 * before the supplier call, settled to what the supplier charged, given back when a failure
 * proves nothing was placed, and kept when the outcome is unknown.
 */
import Big from 'big.js';
import type { Identity } from '../auth/authenticator.ts';
import { GatewayError } from '../errors.ts';
import type { SpendCounter } from '../state/store.ts';
import type { Decimal } from '../supplier/types.ts';

/** Amounts are counted in whole units of 10^-10: exact, and a day's cap up to 900,000 stays exact in Lua. */
const SCALE = new Big(10).pow(10);

const units = (amount: Decimal) => BigInt(new Big(amount).times(SCALE).round(0, Big.roundUp).toFixed(0));
/** An amount as money is written: at least two decimals, more only where they are not zero. */
function money(amount: Big): Decimal {
  const text = amount.toFixed();
  const decimals = text.includes('.') ? text.length - text.indexOf('.') - 1 : 0;
  return decimals >= 2 ? text : amount.toFixed(2);
}

const decimal = (count: bigint) => money(new Big(count.toString()).div(SCALE));

/** The UTC day a spend counts toward, and when the next begins. */
function today(now: number): { day: string; resetsAt: string } {
  const start = new Date(now);
  start.setUTCHours(0, 0, 0, 0);
  return { day: start.toISOString().slice(0, 10), resetsAt: new Date(start.getTime() + 86_400_000).toISOString() };
}

/** A customer's cap: its token's own, else the gateway's; none for every other caller. */
export function capOf(identity: Identity, perDay: Decimal | undefined): Decimal | undefined {
  if (!identity.ok || !identity.customer) return undefined;
  return identity.customer.spendLimit ?? perDay;
}

export interface SpendLimitView {
  limit: Decimal;
  spent: Decimal;
  remaining: Decimal;
  resetsAt: string;
}

export async function spendLimitOf(spends: SpendCounter, identity: Identity, perDay: Decimal | undefined): Promise<SpendLimitView | null> {
  const limit = capOf(identity, perDay);
  if (limit === undefined || !identity.ok) return null;
  const { day, resetsAt } = today(Date.now());
  const spent = decimal(await spends.spent(identity.tenant, identity.caller, day));
  const remaining = new Big(limit).minus(spent);
  return { limit: money(new Big(limit)), spent, remaining: money(remaining.lt(0) ? new Big(0) : remaining), resetsAt };
}

/** A reservation against the cap, ended once: settled, given back, or kept as it is. */
export class SpendReservation {
  #ended = false;

  constructor(
    private readonly spends: SpendCounter,
    private readonly owner: { tenant: string; caller: string },
    private readonly day: string,
    private readonly amount: bigint,
  ) {}

  /** What the supplier charged replaces the estimate. */
  settle(charge: Decimal): Promise<void> {
    return this.#end(units(charge) - this.amount);
  }

  /** A failure that proves nothing was placed gives the estimate back. */
  release(): Promise<void> {
    return this.#end(-this.amount);
  }

  #end(delta: bigint): Promise<void> {
    if (this.#ended || delta === 0n) return Promise.resolve();
    this.#ended = true;
    return this.spends.adjust(this.owner.tenant, this.owner.caller, this.day, delta);
  }
}

/** Reserves the estimate under the caller's cap, or refuses with INSUFFICIENT_BALANCE, reason SPEND_LIMIT. */
export async function reserveSpend(
  spends: SpendCounter,
  owner: { tenant: string; caller: string },
  limit: Decimal,
  estimate: Decimal,
  currency: string,
  /** Whether the caller may see the estimate (`account:read`): it gives the wholesale rate away. */
  figures: boolean,
): Promise<SpendReservation> {
  const { day, resetsAt } = today(Date.now());
  const amount = units(estimate);
  const { reserved, spent } = await spends.reserve(owner.tenant, owner.caller, day, amount, units(limit));
  if (!reserved) {
    const spentToday = decimal(spent);
    const cap = money(new Big(limit));
    const cost = figures ? `This costs about ${estimate} ${currency}, past` : 'This goes past';
    throw new GatewayError('INSUFFICIENT_BALANCE', `${cost} the spend limit of ${cap} ${currency} a day (${spentToday} spent today).`, {
      extensions: { reason: 'SPEND_LIMIT', limit: cap, spent: spentToday, resetsAt, ...(figures ? { estimate } : {}) },
    });
  }
  return new SpendReservation(spends, owner, day, amount);
}
