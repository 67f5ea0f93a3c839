import Big from 'big.js';
import { GatewayError } from '../errors.ts';
import type { Balance, Decimal, Service } from '../supplier/types.ts';
import type { OrderTerms } from './order-terms.ts';

/**
 * What an order should cost: a Package its rate; any other order the rate per 1,000 units for SMM
 * services and per unit for products, times the units it is charged for. The supplier page
 * implies rather than states this, so it is only an estimate.
 */
export function estimateCharge(service: Service, terms: Pick<OrderTerms, 'units' | 'flat'>): Decimal {
  if (terms.flat) return new Big(service.rate).toFixed();
  const units = service.entityType === 'SMM' ? new Big(terms.units).div(1000) : new Big(terms.units);
  return new Big(service.rate).times(units).toFixed();
}

export const times = (amount: Decimal, quantity: number): Decimal => new Big(amount).times(quantity).toFixed();

/**
 * The gateway's own INSUFFICIENT_BALANCE, before the supplier is asked to spend anything; with
 * the balance and the estimate only for a caller who may see them (`account:read`): the estimate
 * gives the wholesale rate away.
 */
export function ensureCovers(balance: Balance, estimate: Decimal, what: string, figures = true): void {
  if (new Big(balance.amount).gte(estimate)) return;
  if (!figures) throw new GatewayError('INSUFFICIENT_BALANCE', "The shop's balance does not cover this now: nothing was spent.");
  throw new GatewayError('INSUFFICIENT_BALANCE', `${what} about ${estimate} ${balance.currency}; the balance is ${balance.amount}.`, {
    extensions: { estimate, balance: balance.amount },
  });
}
