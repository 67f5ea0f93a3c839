import Big from 'big.js';
import type { Decimal, Service } from './types.ts';

/**
 * What an order should cost: the rate is per 1,000 units for SMM services and per unit for
 * products. The supplier page implies rather than states this, so it is only an estimate.
 */
export function estimateCharge(service: Service, quantity: number): Decimal {
  const units = service.entityType === 'SMM' ? new Big(quantity).div(1000) : new Big(quantity);
  return new Big(service.rate).times(units).toFixed();
}

export const times = (amount: Decimal, quantity: number): Decimal => new Big(amount).times(quantity).toFixed();

export const covers = (balance: Decimal, amount: Decimal): boolean => new Big(balance).gte(amount);
