import type { Context } from '../context.ts';
import { GatewayError, badInput } from '../datasources/errors.ts';
import { ensureCovers, estimateCharge } from '../datasources/money.ts';
import { FINAL_ORDER_STATUSES, type NewOrder, type OrderState } from '../datasources/types.ts';
import { builder } from './builder.ts';
import { idempotent } from './idempotency.ts';
import { EntityType, Money } from './scalars.ts';
import { idList, optionalText, supplierId } from './validate.ts';

/** An order known by id; its state is loaded only when a status field is selected. */
export interface OrderRef {
  id: string;
  known?: OrderState;
}

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

async function current<K extends keyof OrderState>(order: OrderRef, ctx: Context, field: K) {
  return (order.known ?? (await ctx.loaders.orderStatus.load(order.id)))[field];
}

export const Order = builder.objectRef<OrderRef>('Order').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: "The supplier's order id." }),
    status: t.field({ type: OrderStatus, resolve: (order, _args, ctx) => current(order, ctx, 'status') }),
    rawStatus: t.string({
      description: 'The status string exactly as the supplier sent it.',
      resolve: (order, _args, ctx) => current(order, ctx, 'rawStatus'),
    }),
    charge: t.field({ type: Money, nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'charge') }),
    startCount: t.int({ nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'startCount') }),
    remains: t.int({ nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'remains') }),
    autoDelivery: t.boolean({ nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'autoDelivery') }),
    entityType: t.field({ type: EntityType, nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'entityType') }),
    accounts: t.stringList({
      description: 'Delivered account credentials of a product order, one string per account; empty otherwise.',
      resolve: (order, _args, ctx) => current(order, ctx, 'accounts'),
    }),
    isFinal: t.boolean({
      description: 'True for COMPLETED, PARTIAL and CANCELED: the status will not change again.',
      resolve: async (order, _args, ctx) => FINAL_ORDER_STATUSES.has(await current(order, ctx, 'status')),
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

/** Everything the gateway can check before money is spent, cheapest first. */
async function placeOrder(ctx: Context, order: NewOrder): Promise<string> {
  const service = await ctx.loaders.service.load(order.serviceId);
  if (!service) throw new GatewayError('NOT_FOUND', `Service ${order.serviceId} not found.`, { extensions: { field: 'serviceId' } });
  if (order.quantity < service.min || order.quantity > service.max) {
    throw badInput(`quantity must be from ${service.min} to ${service.max} for service ${service.id}, got ${order.quantity}.`, { field: 'quantity' });
  }
  if (service.entityType === 'SMM' && !order.link) throw badInput(`link is required for SMM service ${service.id}.`, { field: 'link' });
  const estimate = estimateCharge(service, order.quantity);
  const [inventory, balance] = await Promise.all([
    service.entityType === 'PRODUCT' ? ctx.loaders.inventory.load(service.id) : undefined,
    ctx.loaders.balance(),
  ]);
  if (inventory && (!inventory.available || inventory.stock < order.quantity)) {
    throw new GatewayError('OUT_OF_STOCK', `Only ${inventory.stock} in stock for service ${service.id}.`, { extensions: { stock: inventory.stock } });
  }
  ensureCovers(balance, estimate, 'The order costs');
  try {
    return await ctx.supplier.addOrder(order);
  } finally {
    ctx.loaders.spent(service.id);
  }
}

builder.queryFields((t) => ({
  order: t.field({
    type: Order,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const id = supplierId(args.id, 'id');
      return { id, known: await ctx.loaders.orderStatus.load(id) };
    },
  }),
  orders: t.field({
    type: [Order],
    nullable: { list: false, items: true },
    description: 'One entry per id, in the same order; null (with an error at that path) for an id the supplier does not know.',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: (_root, args, ctx) =>
      idList(args.ids, 'ids').map(async (id) => ({ id, known: await ctx.loaders.orderStatus.load(id) })),
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
      const id = await idempotent(ctx, 'addOrder', input.idempotencyKey, order, () => placeOrder(ctx, order));
      return { id };
    },
  }),
);
