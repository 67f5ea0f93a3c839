import type { Context } from '../context.ts';
import { badInput } from '../datasources/errors.ts';
import { addOrder } from '../datasources/placement.ts';
import { type StateRef, current, isFinalOrder } from '../datasources/states.ts';
import type { NewOrder, OrderState } from '../datasources/types.ts';
import { watchOrderStatus, watchOrders } from '../subscriptions/watch.ts';
import { Money } from './balance.ts';
import { builder } from './builder.ts';
import { EntityType } from './service.ts';
import { idList, optionalText, supplierId } from './validate.ts';

const OrderStatus = builder.enumType('OrderStatus', {
  values: {
    PENDING: {},
    IN_PROGRESS: {},
    PROCESSING: {},
    COMPLETED: {},
    PARTIAL: {},
    CANCELED: {},
    UNKNOWN: { description: 'A status string the gateway does not know; see rawStatus.' },
  } as const,
});

/** A field of the order's state, which `addOrder` (knowing only the id) loads only when one is selected. */
const field = <K extends keyof OrderState>(order: StateRef<OrderState>, ctx: Context, name: K) =>
  current(order, name, ctx.loaders.orderStatus);

const known = (state: OrderState): StateRef<OrderState> => ({ id: state.id, known: state });

export const Order = builder.objectRef<StateRef<OrderState>>('Order').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: "The supplier's order id." }),
    status: t.field({ type: OrderStatus, resolve: (order, _args, ctx) => field(order, ctx, 'status') }),
    rawStatus: t.string({
      description: 'The status string exactly as the supplier sent it.',
      resolve: (order, _args, ctx) => field(order, ctx, 'rawStatus'),
    }),
    charge: t.field({ type: Money, nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'charge') }),
    startCount: t.int({ nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'startCount') }),
    remains: t.int({ nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'remains') }),
    autoDelivery: t.boolean({ nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'autoDelivery') }),
    entityType: t.field({ type: EntityType, nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'entityType') }),
    accounts: t.stringList({
      description: 'Delivered account credentials of a product order, one string per account; empty otherwise.',
      resolve: (order, _args, ctx) => field(order, ctx, 'accounts'),
    }),
    isFinal: t.boolean({
      description: 'True for COMPLETED, PARTIAL and CANCELED: the status will not change again.',
      resolve: async (order, _args, ctx) => isFinalOrder({ status: await field(order, ctx, 'status') }),
    }),
  }),
});

const AddOrderInput = builder.inputType('AddOrderInput', {
  fields: (t) => ({
    serviceId: t.id({ required: true }),
    link: t.string({ description: 'Required for SMM services; optional delivery e-mail or reference for products.' }),
    quantity: t.int({ required: true }),
    idempotencyKey: t.string({
      description: 'Repeating a mutation with the same key returns the first result and places nothing new.',
    }),
  }),
});

builder.queryFields((t) => ({
  order: t.field({
    type: Order,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      return known(await ctx.loaders.orderStatus.load(supplierId(args.id, 'id')));
    },
  }),
  orders: t.field({
    type: [Order],
    nullable: { list: false, items: true },
    description: 'One entry per id, in the same order; null (with an error at that path) for an id the supplier does not know.',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) =>
      idList(args.ids, 'ids').map(async (id) => known(await ctx.loaders.orderStatus.load(id))),
  }),
}));

builder.mutationField('addOrder', (t) =>
  t.field({
    type: Order,
    args: { input: t.arg({ type: AddOrderInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const order: NewOrder = {
        serviceId: supplierId(input.serviceId, 'serviceId'),
        quantity: input.quantity,
        link: optionalText(input.link, 'link'),
      };
      if (order.quantity <= 0) throw badInput(`quantity must be a positive integer, got ${order.quantity}.`, { field: 'quantity' });
      return { id: await addOrder(ctx, order, input.idempotencyKey) };
    },
  }),
);

builder.subscriptionFields((t) => ({
  orderStatus: t.field({
    type: Order,
    description: 'The order now, then each change of it, completing after a final status.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => watchOrderStatus(ctx, supplierId(args.id, 'id')),
    resolve: known,
  }),
  orderUpdates: t.field({
    type: Order,
    description: 'Each order now, then each change of any of them, completing when all are final.',
    args: { ids: t.arg.idList({ required: true }) },
    subscribe: (_root, args, ctx) => watchOrders(ctx, idList(args.ids, 'ids')),
    resolve: known,
  }),
}));
