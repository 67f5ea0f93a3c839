import type { Context } from '../context.ts';
import { badInput } from '../datasources/errors.ts';
import { InvalidCursorError, type Placement, type PlacementKind } from '../state/store.ts';
import { Money } from './balance.ts';
import { builder } from './builder.ts';
import { Order } from './order.ts';
import { type Page, type PageArgs, storedPage, storedPageArgs } from './pagination.ts';
import { SmsOrder } from './sms.ts';

type OrderPlacement = Extract<Placement, { kind: 'order' }>;
type SmsPlacement = Extract<Placement, { kind: 'sms' }>;

const PlacementOutcome = builder.enumType('PlacementOutcome', {
  description: 'How placing an order through this gateway ended, as far as the gateway knows.',
  values: {
    PLACED: { description: "The supplier confirmed it: the order's id is known." },
    UNCONFIRMED: {
      description:
        'The request may have reached the supplier but no answer came back: the order may exist. Reconcile it with the supplier before placing it again.',
    },
  } as const,
});

const PlacedOrder = builder.objectRef<OrderPlacement>('PlacedOrder').implement({
  fields: (t) => ({
    order: t.field({
      type: Order,
      nullable: true,
      description: "The supplier's order with its live status; null when the outcome is UNCONFIRMED.",
      resolve: (placement) => (placement.orderIds[0] ? { id: placement.orderIds[0] } : null),
    }),
    outcome: t.field({ type: PlacementOutcome, resolve: (placement) => placement.outcome }),
    serviceId: t.id({ resolve: (placement) => placement.input.serviceId }),
    quantity: t.int({ resolve: (placement) => placement.input.quantity }),
    link: t.string({ nullable: true, resolve: (placement) => placement.input.link ?? null }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    estimatedCharge: t.field({ type: Money, nullable: true, resolve: (placement) => placement.estimate }),
    placedAt: t.field({ type: 'DateTime', resolve: (placement) => placement.placedAt }),
  }),
});

const PlacedSmsOrder = builder.objectRef<SmsPlacement>('PlacedSmsOrder').implement({
  fields: (t) => ({
    smsOrders: t.field({
      type: [SmsOrder],
      description: 'The rented numbers with their live status; empty when the outcome is UNCONFIRMED.',
      resolve: (placement) => placement.orderIds.map((id) => ({ id })),
    }),
    outcome: t.field({ type: PlacementOutcome, resolve: (placement) => placement.outcome }),
    projectId: t.id({ resolve: (placement) => placement.input.projectId }),
    quantity: t.int({ resolve: (placement) => placement.input.quantity }),
    country: t.string({ nullable: true, resolve: (placement) => placement.input.country ?? null }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
    placedAt: t.field({ type: 'DateTime', resolve: (placement) => placement.placedAt }),
  }),
});

const PlacedOrderConnection = builder.connectionObject(
  { type: PlacedOrder, name: 'PlacedOrderConnection', fields: (t) => ({ totalCount: t.int({ resolve: (page) => (page as unknown as Page<Placement>).totalCount }) }) },
  { name: 'PlacedOrderEdge' },
);

const PlacedSmsOrderConnection = builder.connectionObject(
  { type: PlacedSmsOrder, name: 'PlacedSmsOrderConnection', fields: (t) => ({ totalCount: t.int({ resolve: (page) => (page as unknown as Page<Placement>).totalCount }) }) },
  { name: 'PlacedSmsOrderEdge' },
);

/** One page of the caller's own placements of one kind: read from the ledger, no supplier call. */
async function placements<K extends PlacementKind>(ctx: Context, kind: K, args: PageArgs): Promise<Page<Extract<Placement, { kind: K }>>> {
  const { first, after } = storedPageArgs(args);
  const { tenant, caller } = ctx.supplier.caller;
  try {
    const page = await ctx.services.state.ledger.page({ tenant, caller }, kind, first, after);
    return storedPage(page.placements as Array<Extract<Placement, { kind: K }>>, { hasNextPage: page.hasNextPage, totalCount: page.totalCount, after });
  } catch (error) {
    if (error instanceof InvalidCursorError) throw badInput('after names a placement that is no longer listed.', { field: 'after' });
    throw error;
  }
}

builder.queryFields((t) => ({
  placedOrders: t.field({
    type: PlacedOrderConnection,
    description: 'Orders the calling client placed through this gateway, newest first.',
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (_root, args, ctx) => placements(ctx, 'order', args),
  }),
  placedSmsOrders: t.field({
    type: PlacedSmsOrderConnection,
    description: 'SMS rentals the calling client made through this gateway, newest first.',
    args: { first: t.arg.int(), after: t.arg.string() },
    resolve: (_root, args, ctx) => placements(ctx, 'sms', args),
  }),
}));
