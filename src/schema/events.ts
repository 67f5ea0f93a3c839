import { badInput } from '../errors.ts';
import type { FeedEntry } from '../events/store.ts';
import type { FollowedKind } from '../events/types.ts';
import type { OrderState, RefillState, SmsOrderState } from '../supplier/types.ts';
import { builder } from './builder.ts';
import { Order } from './order.ts';
import { MAX_PAGE_SIZE } from './pagination.ts';
import { Refill } from './refill.ts';
import { SmsOrder } from './sms.ts';

const DEFAULT_EVENTS = 50;

const OrderEventKind = builder.enumType('OrderEventKind', {
  description: 'What an event is about.',
  values: {
    ORDER: { value: 'order', description: 'An order (`addOrder`): `order` holds its state.' },
    SMS_ORDER: { value: 'sms', description: 'A rented number (`addSmsOrder`): `smsOrder` holds its state.' },
    REFILL: { value: 'refill', description: 'A refill (`refillOrder`): `refill` holds its state.' },
  } as const,
});

/** The state as recorded, for the node of its kind only. */
const stateOf = <S extends object>(entry: FeedEntry, kind: FollowedKind) =>
  entry.event.kind === kind ? (entry.event.state as unknown as S) : undefined;

const OrderEvent = builder.objectRef<FeedEntry>('OrderEvent').implement({
  description:
    'A change of an order, SMS order or refill placed through this gateway, recorded once when the gateway saw it (server-key mode: the gateway follows every placement to its final state, watched or not).',
  fields: (t) => ({
    id: t.id({
      description: "The event's id, `evt_` and a random id: the same in every delivery of it (webhooks), so receivers dedupe by it.",
      resolve: ({ event }) => event.id,
    }),
    type: t.string({
      description: '`order.updated`, `sms_order.updated` or `refill.updated`.',
      resolve: ({ event }) => event.type,
    }),
    version: t.int({
      description: 'The version of the state: 1 for the first state recorded, one more for each change after it. Never repeats for one id.',
      resolve: ({ event }) => event.version,
    }),
    at: t.field({ type: 'DateTime', description: 'When the gateway saw the change.', resolve: ({ event }) => event.at }),
    orderId: t.id({ description: "The supplier's id of the order, SMS order or refill.", resolve: ({ event }) => event.orderId }),
    kind: t.field({ type: OrderEventKind, description: 'What the event is about.', resolve: ({ event }) => event.kind }),
    order: t.field({
      type: Order,
      nullable: true,
      description: 'The order as it was at this version, no supplier call; null unless `kind` is ORDER.',
      resolve: (entry) => {
        const state = stateOf<OrderState>(entry, 'order');
        return state && { id: entry.event.orderId, known: state };
      },
    }),
    smsOrder: t.field({
      type: SmsOrder,
      nullable: true,
      description: 'The rented number as it was at this version, no supplier call; null unless `kind` is SMS_ORDER.',
      resolve: (entry) => {
        const state = stateOf<SmsOrderState>(entry, 'sms');
        return state && { id: entry.event.orderId, known: state };
      },
    }),
    refill: t.field({
      type: Refill,
      nullable: true,
      description: 'The refill as it was at this version, with its order, no supplier call; null unless `kind` is REFILL.',
      resolve: (entry) => {
        const state = stateOf<RefillState & { orderId?: string }>(entry, 'refill');
        return state && { id: entry.event.orderId, known: state, orderId: state.orderId };
      },
    }),
  }),
});

const OrderEventConnection = builder.connectionObject(
  { type: OrderEvent, name: 'OrderEventConnection', description: "A page of the caller's events, oldest first." },
  { name: 'OrderEventEdge', description: 'An event with its place in the feed.' },
);

const encode = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');

function decode(cursor: string): number {
  const match = /^seq:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || encode(Number(match[1])) !== cursor.replace(/=+$/, '')) {
    throw badInput('after is not a cursor this API gave out.', { field: 'after' });
  }
  return Number(match[1]);
}

function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_EVENTS;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw badInput(`first must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${size}.`, { field: 'first' });
  }
  return size;
}

builder.queryField('orderEvents', (t) =>
  t.field({
    authScopes: { 'orders:read': true },
    type: OrderEventConnection,
    description:
      'The calling client\'s change feed: each recorded change of the orders, SMS orders and refills it placed (or that a backend placed for it), oldest first, from the gateway\'s record: no supplier call. Keep `endCursor` and ask again with `after` for what changed since. Kept `LEDGER_RETENTION_DAYS`. Empty in pass-through mode, where the gateway follows nothing. Errors: BAD_USER_INPUT (bad `first` or `after`), UNAUTHENTICATED, UPSTREAM_UNAVAILABLE (`reason: "STATE_STORE"`).',
    args: {
      after: t.arg.string({ description: 'The endCursor of the previous page: the events after it.' }),
      first: t.arg.int({ description: `Page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_EVENTS}).` }),
    },
    resolve: async (_root, args, ctx) => {
      const first = pageSize(args.first);
      const after = args.after ? decode(args.after) : undefined;
      const { tenant, caller } = ctx.supplier.caller;
      const { entries, hasNextPage } = await ctx.runtime.events.feed(tenant, caller, after, first);
      const edges = entries.map((entry) => ({ cursor: encode(entry.seq), node: entry }));
      return {
        edges,
        pageInfo: {
          hasNextPage,
          hasPreviousPage: after !== undefined,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),
);
