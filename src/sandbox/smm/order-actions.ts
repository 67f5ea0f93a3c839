import { ERRORS, SupplierError } from '../errors.ts';
import { ownOrder, text, wholeNumber, type Fields, type Json } from '../http/form.ts';
import { caseStatus } from '../http/quirks.ts';
import { debit } from '../world/accounts.ts';
import { scale } from '../world/money.ts';
import { watchOrder, type ActionContext } from '../world/world.ts';
import { rateFor, requireService } from './catalogue-actions.ts';
import type { Service } from './catalogue.ts';
import { createOrder, orderState } from './orders.ts';

/** Checks in the panel's order: service, quantity, link, stock, then money. */
export function add({ world, account, fields, now }: ActionContext): Json {
  const service = requireService(world, account, fields);
  const quantity = requireQuantity(fields, service);
  const product = service.entityType === 'product';
  if (!product && text(fields, 'link') === undefined) throw new SupplierError(ERRORS.linkRequired);
  if (product && service.stock < quantity) throw new SupplierError(ERRORS.notEnoughStock);
  // The rate of an smm service is per 1,000 units; a product's is per unit.
  const charge = scale(rateFor(account, service), quantity, product ? 1 : 1000);
  debit(account, charge);
  if (product) service.stock -= quantity;
  const order = createOrder({ id: world.nextOrderId++, account, service, quantity, charge, now, seed: world.seed }, world.shares);
  world.orders.set(order.id, order);
  watchOrder(world, order);
  return { order: order.id };
}

function requireQuantity(fields: Fields, service: Service): number {
  const raw = text(fields, 'quantity');
  if (raw === undefined) throw new SupplierError(ERRORS.quantityRequired);
  const quantity = wholeNumber(raw);
  if (quantity === undefined || quantity < service.min || quantity > service.max) {
    throw new SupplierError(ERRORS.quantityRange(service.min, service.max));
  }
  return quantity;
}

export function status({ world, account, fields, now }: ActionContext): Json {
  const order = ownOrder(world.orders, account, fields);
  const state = orderState(order, now);
  const product = order.service.entityType === 'product';
  const delivered = product ? order.accounts.slice(0, state.delivered) : [];
  return {
    status: order.rawStatus ?? caseStatus(world.flavour.statuses[state.phase], world.quirks),
    charge: world.flavour.money(order.charge),
    start_count: order.startCount,
    remains: order.quantity - state.delivered,
    currency: account.currency,
    ...(product ? { entityType: 'product' } : {}),
    autoDelivery: order.service.autoDelivery,
    ...(delivered.length > 0 ? { accounts: delivered } : {}),
  };
}

export function balance({ world, account }: ActionContext): Json {
  return { balance: world.flavour.money(account.balance), currency: account.currency };
}
