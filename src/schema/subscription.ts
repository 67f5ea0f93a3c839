import type { Context } from '../context.ts';
import { Loaders } from '../datasources/loaders.ts';
import { FINAL_ORDER_STATUSES, FINAL_SMS_STATUSES, type OrderState, type SmsOrderState } from '../datasources/types.ts';
import { merge } from '../subscriptions/merge.ts';
import { builder } from './builder.ts';
import { Order } from './order.ts';
import { SmsOrder } from './sms.ts';
import { idList, supplierId } from './validate.ts';

const same = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);

/** Each poll reads through fresh loaders: a long-lived subscription never sees a stale per-request cache. */
function watchOrder(ctx: Context, id: string) {
  const { supplier, services } = ctx;
  return services.hub.watch<OrderState>(supplier.tenant, `order:${id}`, () => ({
    poll: () => new Loaders(supplier).orderStatus.load(id),
    same,
    isFinal: (state: OrderState) => FINAL_ORDER_STATUSES.has(state.status),
    intervalMs: services.config.orderPollMs,
    maxIntervalMs: services.config.orderPollMaxMs,
  }));
}

/** `sms_status` each poll; `sms_code` once a code is there, for the message text. */
async function smsState(loaders: Loaders, id: string): Promise<SmsOrderState> {
  const state = await loaders.smsStatus.load(id);
  if (state.code === null || state.smsContent !== null) return state;
  return { ...state, smsContent: (await loaders.smsCode.load(id)).smsContent };
}

/** One watch per distinct id; if one is refused (the tenant's limit), those already made are closed. */
function watchOrders(ctx: Context, ids: readonly string[]) {
  const sources: AsyncIterableIterator<OrderState>[] = [];
  try {
    for (const id of new Set(ids)) sources.push(watchOrder(ctx, id));
  } catch (error) {
    for (const source of sources) void source.return?.();
    throw error;
  }
  return merge(sources);
}

function watchSms(ctx: Context, id: string) {
  const { supplier, services } = ctx;
  return services.hub.watch<SmsOrderState>(supplier.tenant, `sms:${id}`, () => ({
    poll: () => smsState(new Loaders(supplier), id),
    same,
    isFinal: (state: SmsOrderState) => FINAL_SMS_STATUSES.has(state.status) || state.code !== null,
    intervalMs: services.config.smsPollMs,
    maxIntervalMs: services.config.smsPollMs,
  }));
}

builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  orderStatus: t.field({
    type: Order,
    description: 'The order now, then each change of it, completing after a final status.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => watchOrder(ctx, supplierId(args.id, 'id')),
    resolve: (state: OrderState) => ({ id: state.id, known: state }),
  }),
  orderUpdates: t.field({
    type: Order,
    description: 'Each order now, then each change of any of them, completing when all are final.',
    args: { ids: t.arg.idList({ required: true }) },
    subscribe: (_root, args, ctx) => watchOrders(ctx, idList(args.ids, 'ids')),
    resolve: (state: OrderState) => ({ id: state.id, known: state }),
  }),
  smsCode: t.field({
    type: SmsOrder,
    description: 'The SMS order now, then each change, completing once a code arrives or the order ends.',
    args: { orderId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => watchSms(ctx, supplierId(args.orderId, 'orderId')),
    resolve: (state: SmsOrderState) => ({ id: state.id, known: state }),
  }),
}));
