import { ERRORS, SupplierError } from '../errors.ts';
import { idList, idValue, ownOrder, text, wholeNumber, type Json } from '../http/form.ts';
import { caseStatus } from '../http/quirks.ts';
import type { Account } from '../world/accounts.ts';
import type { ActionContext, World } from '../world/world.ts';
import { orderOf } from './order-actions.ts';
import { orderState, type Order } from './orders.ts';
import { createRefill, REFILL_STATUSES, refillPhase, type Refill } from './refills.ts';

/**
 * `order=ID` answers `{"refill": "ID"}` or refuses the whole call; `orders=1,2,…` answers a list
 * where each order that cannot be refilled carries its own error.
 */
export function refill({ world, account, fields, now }: ActionContext): Json {
  const ids = idList(fields, 'orders');
  if (ids === undefined) {
    const order = ownOrder(world.orders, account, fields);
    const refused = refusal(world, order, now);
    if (refused) throw new SupplierError(refused);
    return { refill: String(startRefill(world, order, now).id) };
  }
  return ids.map((id) => ({ order: idValue(id), refill: refillOne(world, orderOf(world, account, id), now) }));
}

function refillOne(world: World, order: Order | undefined, now: number): Json {
  if (!order) return { error: ERRORS.incorrectOrderId };
  const refused = refusal(world, order, now);
  return refused ? { error: refused } : startRefill(world, order, now).id;
}

/** Why this order cannot be refilled now, if it cannot. */
function refusal(world: World, order: Order, now: number): string | undefined {
  if (!order.service.refill) return ERRORS.refillUnavailable;
  const { phase } = orderState(order, now);
  if (phase !== 'completed' && phase !== 'partial') return ERRORS.refillNotCompleted;
  const open = [...world.refills.values()].some((refill) => refill.order === order && now < refill.finalAt);
  return open ? ERRORS.refillInProgress : undefined;
}

function startRefill(world: World, order: Order, now: number): Refill {
  const created = createRefill(world.nextRefillId++, order, now, world.seed, world.refillRejectShare);
  world.refills.set(created.id, created);
  return created;
}

/** `refill=ID` answers `{"status": …}`; `refills=1,2,…` a list where an unknown refill carries its own error. */
export function refillStatus({ world, account, fields, now }: ActionContext): Json {
  const ids = idList(fields, 'refills');
  if (ids === undefined) {
    const raw = text(fields, 'refill');
    if (raw === undefined) throw new SupplierError(ERRORS.refillRequired);
    const found = refillOf(world, account, raw);
    if (!found) throw new SupplierError(ERRORS.refillNotFound);
    return { status: statusOf(world, found, now) };
  }
  return ids.map((id) => {
    const found = refillOf(world, account, id);
    return { refill: idValue(id), status: found ? statusOf(world, found, now) : { error: ERRORS.refillNotFound } };
  });
}

function refillOf(world: World, account: Account, id: string): Refill | undefined {
  const number = wholeNumber(id);
  const found = number === undefined ? undefined : world.refills.get(number);
  return found?.order.account === account ? found : undefined;
}

function statusOf(world: World, refill: Refill, now: number): string {
  return refill.rawStatus ?? caseStatus(REFILL_STATUSES[refillPhase(refill, now)], world.quirks);
}
