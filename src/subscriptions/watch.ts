/**
 * What a subscription watches, through the poll hub: one loop per tenant and order however many
 * watch it. Each poll reads through fresh loaders, so a long-lived subscription never sees a
 * stale per-request cache.
 */
import type { OperationContext } from '../context.ts';
import { errorFromSupplier } from '../datasources/errors.ts';
import { Loaders } from '../datasources/loaders.ts';
import { isFinalOrder, isFinalSms, smsMessage } from '../datasources/states.ts';
import type { OrderState, SmsOrderState } from '../datasources/types.ts';
import type { PlacementKind } from '../state/store.ts';
import { merge } from './merge.ts';

/** A watcher may watch only what it may read: any other id is NOT_FOUND, before any loop starts. */
async function ensureVisible(ctx: OperationContext, kind: PlacementKind, ids: readonly string[]) {
  const visible = await ctx.loaders.visible(kind, ids);
  if (visible.includes(false)) throw errorFromSupplier('Order not found', kind === 'order' ? 'status' : 'sms_status');
}

const same = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);

function watchOrder({ supplier, services }: OperationContext, id: string) {
  return services.hub.watch<OrderState>(supplier.tenant, `order:${id}`, () => ({
    poll: () => new Loaders(supplier, services.state.ledger).orderStatus.load(id),
    same,
    isFinal: isFinalOrder,
    intervalMs: services.config.orderPollMs,
    maxIntervalMs: services.config.orderPollMaxMs,
  }));
}

/** One watch per distinct id; if one is refused (the tenant's limit), those already made are closed. */
export async function watchOrders(ctx: OperationContext, ids: readonly string[]) {
  await ensureVisible(ctx, 'order', ids);
  const sources: AsyncIterableIterator<OrderState>[] = [];
  try {
    for (const id of new Set(ids)) sources.push(watchOrder(ctx, id));
  } catch (error) {
    for (const source of sources) void source.return?.();
    throw error;
  }
  return merge(sources);
}

export async function watchOrderStatus(ctx: OperationContext, id: string) {
  await ensureVisible(ctx, 'order', [id]);
  return watchOrder(ctx, id);
}

/** `sms_status` each poll, and the message text once a code is there; never backs off. */
export async function watchSms(ctx: OperationContext, id: string) {
  await ensureVisible(ctx, 'sms', [id]);
  const { supplier, services } = ctx;
  return services.hub.watch<SmsOrderState>(supplier.tenant, `sms:${id}`, () => ({
    poll: async () => {
      const loaders = new Loaders(supplier, services.state.ledger);
      const state = await loaders.smsStatus.load(id);
      return { ...state, smsContent: await smsMessage(state, loaders) };
    },
    same,
    isFinal: isFinalSms,
    intervalMs: services.config.smsPollMs,
    maxIntervalMs: services.config.smsPollMs,
  }));
}
