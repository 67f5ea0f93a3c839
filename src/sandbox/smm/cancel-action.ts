import { ERRORS, SupplierError } from '../errors.ts';
import { idList, idValue, type Json } from '../http/form.ts';
import { watchOrder, type ActionContext, type World } from '../world/world.ts';
import { orderOf } from './order-actions.ts';
import { askCancel, orderState, type Order } from './orders.ts';

/**
 * `orders=1,2,…`: per order, `1` when the cancel was asked for (the order turns Canceled a little
 * later, refunding what was not delivered) or its own error.
 */
export function cancel({ world, account, fields, now }: ActionContext): Json {
  const ids = idList(fields, 'orders');
  if (ids === undefined) throw new SupplierError(ERRORS.orderRequired);
  return ids.map((id) => ({ order: idValue(id), cancel: cancelOne(world, orderOf(world, account, id), now) }));
}

function cancelOne(world: World, order: Order | undefined, now: number): Json {
  if (!order) return { error: ERRORS.incorrectOrderId };
  const refused = refusal(order, now);
  if (refused) return { error: refused };
  askCancel(order, now);
  watchOrder(world, order);
  return 1;
}

function refusal(order: Order, now: number): string | undefined {
  if (!order.service.cancel) return ERRORS.cancelUnavailable;
  const { phase } = orderState(order, now);
  return ['completed', 'partial', 'canceled', 'failed'].includes(phase) ? ERRORS.orderFinished : undefined;
}
