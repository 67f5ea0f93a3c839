import { ERRORS, SupplierError } from '../errors.ts';
import { idList, ownOrder, text, wholeNumber, type Json } from '../http/form.ts';
import { caseStatus } from '../http/quirks.ts';
import { debit, type Account } from '../world/accounts.ts';
import { scale } from '../world/money.ts';
import { watchOrder, type ActionContext, type World } from '../world/world.ts';
import { rateFor, requireService } from './catalogue-actions.ts';
import { createOrder, orderState, type Order } from './orders.ts';
import { orderTerms } from './service-types.ts';

/** Checks in the panel's order: service, the fields of its type, link, stock, then money. */
export function add({ world, account, fields, now }: ActionContext): Json {
  const service = requireService(world, account, fields);
  const terms = orderTerms(fields, service, world.api === 'full');
  const { quantity } = terms;
  const product = service.entityType === 'product';
  if (!product && terms.link && text(fields, 'link') === undefined) throw new SupplierError(ERRORS.linkRequired);
  if (product && service.stock < quantity) throw new SupplierError(ERRORS.notEnoughStock);
  // The rate of an smm service is per 1,000 units; a product's is per unit; a package's is its price.
  const rate = rateFor(account, service);
  const charge = terms.flat ? rate : scale(rate, quantity, product ? 1 : 1000);
  debit(account, charge);
  if (product) service.stock -= quantity;
  const placed = { id: world.nextOrderId++, account, service, quantity, charge, now, seed: world.seed };
  const order = createOrder(terms.drip ? { ...placed, drip: terms.drip } : placed, world.shares);
  world.orders.set(order.id, order);
  watchOrder(world, order);
  return { order: order.id };
}

/**
 * `order=ID`, or with the whole family `orders=1,2,…`: an object keyed by id, where an id this key
 * has no order under answers its own error. A supplier of the page alone reads `order` only.
 */
export function status({ world, account, fields, now }: ActionContext): Json {
  const ids = world.api === 'full' ? idList(fields, 'orders') : undefined;
  if (ids === undefined) return statusView(world, ownOrder(world.orders, account, fields), now);
  return Object.fromEntries(
    ids.map((id) => {
      const order = orderOf(world, account, id);
      return [id, order ? statusView(world, order, now) : { error: ERRORS.incorrectOrderId }];
    }),
  );
}

/** An order of this key by an id as written in a batch; another key's order does not exist for it. */
export function orderOf(world: World, account: Account, id: string): Order | undefined {
  const number = wholeNumber(id);
  const order = number === undefined ? undefined : world.orders.get(number);
  return order?.account === account ? order : undefined;
}

function statusView(world: World, order: Order, now: number): Json {
  const state = orderState(order, now);
  const product = order.service.entityType === 'product';
  const delivered = product ? order.accounts.slice(0, state.delivered) : [];
  return {
    status: order.rawStatus ?? caseStatus(world.flavour.statuses[state.phase], world.quirks),
    charge: world.flavour.money(order.charge),
    start_count: order.startCount,
    remains: order.quantity - state.delivered,
    currency: order.account.currency,
    ...(product ? { entityType: 'product' } : {}),
    autoDelivery: order.service.autoDelivery,
    ...(delivered.length > 0 ? { accounts: delivered } : {}),
  };
}

export function balance({ world, account }: ActionContext): Json {
  return { balance: world.flavour.money(account.balance), currency: account.currency };
}
