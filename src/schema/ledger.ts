import { badInput } from '../errors.ts';
import type { Context } from '../graphql/context.ts';
import { orderedQuantity } from '../placement/order-terms.ts';
import { InvalidCursorError, type Placement } from '../state/store.ts';
import { Money } from './balance.ts';
import { builder } from './builder.ts';
import { Order, OrderStatus } from './order.ts';
import { storedPage, storedPageArgs, type Page, type PageArgs } from './pagination.ts';
import { SmsOrder, SmsOrderStatus } from './sms.ts';

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
  description:
    'An `addOrder` the calling client made through this gateway, as the ledger recorded it (kept `LEDGER_RETENTION_DAYS`), whether or not the supplier confirmed it.',
  fields: (t) => ({
    order: t.field({
      type: Order,
      nullable: true,
      description: "The supplier's order with its live status; null when the outcome is UNCONFIRMED.",
      resolve: (placement) => (placement.orderIds[0] ? { id: placement.orderIds[0] } : null),
    }),
    outcome: t.field({ type: PlacementOutcome, description: 'How the placement ended.', resolve: (placement) => placement.outcome }),
    serviceId: t.id({ description: 'The service ordered.', resolve: (placement) => placement.input.serviceId }),
    quantity: t.int({
      description:
        'The quantity ordered: as sent, else what the service type counts (the entries of `comments` or `usernames`, `max` times `posts` for a subscription, 1 for a Package). Per run for a drip-feed.',
      resolve: (placement) => orderedQuantity(placement.input),
    }),
    link: t.string({
      nullable: true,
      description: 'The link sent with the order; null when none was.',
      resolve: (placement) => placement.input.link ?? null,
    }),
    idempotencyKey: t.exposeString('idempotencyKey', {
      nullable: true,
      description: 'The idempotency key the client sent; null when it sent none.',
    }),
    estimatedCharge: t.field({
      authScopes: { 'account:read': true },
      type: Money,
      nullable: true,
      description:
        "The gateway's estimate of the charge (rate times quantity), made before placing; `order.charge` is what the supplier charged. Null when no estimate could be made.",
      resolve: (placement) => placement.estimate,
    }),
    placedAt: t.field({
      type: 'DateTime',
      description: 'When the gateway sent the order to the supplier.',
      resolve: (placement) => placement.placedAt,
    }),
  }),
});

const PlacedSmsOrder = builder.objectRef<SmsPlacement>('PlacedSmsOrder').implement({
  description:
    'An `addSmsOrder` the calling client made through this gateway, as the ledger recorded it (kept `LEDGER_RETENTION_DAYS`), whether or not the supplier confirmed it.',
  fields: (t) => ({
    smsOrders: t.field({
      type: [SmsOrder],
      description: 'The rented numbers with their live status; empty when the outcome is UNCONFIRMED.',
      resolve: (placement) => placement.orderIds.map((id) => ({ id })),
    }),
    outcome: t.field({ type: PlacementOutcome, description: 'How the placement ended.', resolve: (placement) => placement.outcome }),
    projectId: t.id({ description: 'The SMS project the numbers were rented for.', resolve: (placement) => placement.input.projectId }),
    quantity: t.int({ description: 'How many numbers were asked for.', resolve: (placement) => placement.input.quantity }),
    country: t.string({
      nullable: true,
      description: 'The country asked for; null when none was.',
      resolve: (placement) => placement.input.country ?? null,
    }),
    idempotencyKey: t.exposeString('idempotencyKey', {
      nullable: true,
      description: 'The idempotency key the client sent; null when it sent none.',
    }),
    placedAt: t.field({
      type: 'DateTime',
      description: 'When the gateway sent the rental to the supplier.',
      resolve: (placement) => placement.placedAt,
    }),
  }),
});

const totalCount = {
  description: 'How many placements the ledger lists in all, across every page.',
  resolve: (page: unknown) => (page as Page<Placement>).totalCount,
};

const PlacedOrderConnection = builder.connectionObject(
  {
    type: PlacedOrder,
    name: 'PlacedOrderConnection',
    description: 'A page of placed orders, newest first.',
    fields: (t) => ({ totalCount: t.int(totalCount) }),
  },
  { name: 'PlacedOrderEdge', description: 'A placed order with its position in the list.' },
);

const PlacedSmsOrderConnection = builder.connectionObject(
  {
    type: PlacedSmsOrder,
    name: 'PlacedSmsOrderConnection',
    description: 'A page of SMS rentals, newest first.',
    fields: (t) => ({ totalCount: t.int(totalCount) }),
  },
  { name: 'PlacedSmsOrderEdge', description: 'An SMS rental with its position in the list.' },
);

const ledgerPageArgs = builder.args((t) => ({
  first: t.int({ description: 'Page size, 0 to 500 (default 50).' }),
  after: t.string({ description: 'The endCursor of the previous page.' }),
}));

/** What the follower recorded of a placement's orders, asked for with `status` or `updatedSince`. */
interface RecordedFilter {
  status?: string | null;
  updatedSince?: Date | null;
}

/** Placements read from the ledger at a time when a filter scans it. */
const SCAN = 1000;

/**
 * The caller's placements whose recorded state matches (any of an SMS rental's numbers), newest
 * first: the whole ledger of the caller scanned, with the states the follower recorded, no
 * supplier call. `after` is a placement listed, matching or not.
 */
async function matching(ctx: Context, kind: 'order' | 'sms', filter: RecordedFilter, first: number, after?: string) {
  const { tenant, caller } = ctx.supplier.caller;
  const since = filter.updatedSince?.getTime() ?? -Infinity;
  const found: Array<{ placement: Placement; at: number }> = [];
  let start = after === undefined ? 0 : -1;
  let listed = 0;
  let cursor: string | undefined;
  for (let more = true; more;) {
    const page = await ctx.runtime.state.ledger.page({ tenant, caller }, kind, SCAN, cursor);
    const ids = page.placements.flatMap((placement) => placement.orderIds);
    const recorded = new Map((await ctx.runtime.events.recorded(tenant, kind, ids)).map((state, index) => [ids[index]!, state]));
    for (const placement of page.placements) {
      if (placement.id === after) start = listed + 1;
      const states = placement.orderIds.map((id) => recorded.get(id)).filter((state) => state !== undefined);
      const fits = states.some(
        (state) =>
          (!filter.status || (JSON.parse(state.state) as { status: string }).status === filter.status) && Date.parse(state.at) >= since,
      );
      if (fits) found.push({ placement, at: listed });
      listed += 1;
    }
    cursor = page.placements.at(-1)?.id;
    more = page.hasNextPage && cursor !== undefined;
  }
  if (start < 0) throw new InvalidCursorError(after);
  const rest = found.filter((match) => match.at >= start);
  return { placements: rest.slice(0, first).map((match) => match.placement), hasNextPage: rest.length > first, totalCount: found.length };
}

/** One page of the caller's own placements of one kind: read from the ledger, no supplier call. */
async function placements<K extends 'order' | 'sms'>(
  ctx: Context,
  kind: K,
  args: PageArgs & RecordedFilter,
): Promise<Page<Extract<Placement, { kind: K }>>> {
  const { first, after } = storedPageArgs(args);
  const { tenant, caller } = ctx.supplier.caller;
  try {
    const page =
      args.status || args.updatedSince
        ? await matching(ctx, kind, args, first, after)
        : await ctx.runtime.state.ledger.page({ tenant, caller }, kind, first, after);
    return storedPage(page.placements as Array<Extract<Placement, { kind: K }>>, {
      hasNextPage: page.hasNextPage,
      totalCount: page.totalCount,
      after,
    });
  } catch (error) {
    if (error instanceof InvalidCursorError) throw badInput('after names a placement that is no longer listed.', { field: 'after' });
    throw error;
  }
}

builder.queryFields((t) => ({
  placedOrders: t.field({
    authScopes: { 'orders:read': true },
    type: PlacedOrderConnection,
    description:
      'Orders the calling client placed through this gateway, newest first, from the ledger: no supplier call unless `order` status fields are selected (then one per order). After an ambiguous failure, look here before placing again. `status` and `updatedSince` keep the orders whose state the gateway recorded (server-key mode, where it follows every order) matches, with no supplier call; `totalCount` then counts the matches. Errors: BAD_USER_INPUT (bad `first` or `after`), UNAUTHENTICATED, UPSTREAM_UNAVAILABLE (`reason: "STATE_STORE"`).',
    args: {
      ...ledgerPageArgs,
      status: t.arg({ type: OrderStatus, description: 'Only orders whose recorded status is this one.' }),
      updatedSince: t.arg({ type: 'DateTime', description: 'Only orders whose recorded state changed at or after this time.' }),
    },
    resolve: (_root, args, ctx) => placements(ctx, 'order', args),
  }),
  placedSmsOrders: t.field({
    authScopes: { 'orders:read': true },
    type: PlacedSmsOrderConnection,
    description:
      'SMS rentals the calling client made through this gateway, newest first, from the ledger: no supplier call unless `smsOrders` status fields are selected. `status` and `updatedSince` keep the rentals one of whose numbers has a recorded state that matches (server-key mode), with no supplier call; `totalCount` then counts the matches. Errors: BAD_USER_INPUT (bad `first` or `after`), UNAUTHENTICATED, UPSTREAM_UNAVAILABLE (`reason: "STATE_STORE"`).',
    args: {
      ...ledgerPageArgs,
      status: t.arg({ type: SmsOrderStatus, description: 'Only rentals with a number whose recorded status is this one.' }),
      updatedSince: t.arg({
        type: 'DateTime',
        description: 'Only rentals with a number whose recorded state changed at or after this time.',
      }),
    },
    resolve: (_root, args, ctx) => placements(ctx, 'sms', args),
  }),
}));
