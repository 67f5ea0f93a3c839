import type { Context } from '../graphql/context.ts';
import { addOrder } from '../placement/placement.ts';
import { watchOrders, watchOrderStatus } from '../subscriptions/watch.ts';
import { current, isFinalOrder, type StateRef } from '../supplier/states.ts';
import type { NewOrder, OrderState } from '../supplier/types.ts';
import { Money } from './balance.ts';
import { builder } from './builder.ts';
import { EntityType } from './service.ts';
import { onBehalfOf, optionalText, orderId, orderIdList, supplierId } from './validate.ts';

export const OrderStatus = builder.enumType('OrderStatus', {
  description: "Where an order stands, from the supplier's status string. COMPLETED, PARTIAL and CANCELED are final.",
  values: {
    PENDING: { description: 'Accepted, not started yet.' },
    IN_PROGRESS: { description: 'Being delivered; `remains` counts down.' },
    PROCESSING: { description: 'Being prepared by the supplier before delivery starts.' },
    COMPLETED: { description: 'Delivered in full. Final.' },
    PARTIAL: { description: 'Delivered in part, the rest refunded (`remains` says how much). Final.' },
    CANCELED: { description: 'Canceled and refunded. Final.' },
    UNKNOWN: { description: 'A status string the gateway does not know; see rawStatus.' },
  } as const,
});

/** A field of the order's state, which `addOrder` (knowing only the id) loads only when one is selected. */
const field = <K extends keyof OrderState>(order: StateRef<OrderState>, ctx: Context, name: K) =>
  current(order, name, ctx.loaders.orderStatus);

const known = (state: OrderState): StateRef<OrderState> => ({ id: state.id, known: state });

export const Order = builder.objectRef<StateRef<OrderState>>('Order').implement({
  description:
    "An order of a service, with the supplier's live status: read once per request when a status field is selected, never cached across requests.",
  fields: (t) => ({
    id: t.exposeID('id', { description: "The supplier's order id." }),
    status: t.field({
      type: OrderStatus,
      description: 'Where the order stands.',
      resolve: (order, _args, ctx) => field(order, ctx, 'status'),
    }),
    rawStatus: t.string({
      description: 'The status string exactly as the supplier sent it.',
      resolve: (order, _args, ctx) => field(order, ctx, 'rawStatus'),
    }),
    charge: t.field({
      authScopes: { 'account:read': true },
      type: Money,
      nullable: true,
      description: 'What the supplier charged for it; null when the supplier does not say.',
      resolve: (order, _args, ctx) => field(order, ctx, 'charge'),
    }),
    startCount: t.int({
      nullable: true,
      description:
        'The count (followers, likes…) at the link when delivery started; null before it starts or when the supplier does not say.',
      resolve: (order, _args, ctx) => field(order, ctx, 'startCount'),
    }),
    remains: t.int({
      nullable: true,
      description: 'Units not delivered yet (or, once PARTIAL, never delivered); null when the supplier does not say.',
      resolve: (order, _args, ctx) => field(order, ctx, 'remains'),
    }),
    autoDelivery: t.boolean({
      nullable: true,
      description: 'True when fulfilled automatically, false when by hand; null when the supplier does not say.',
      resolve: (order, _args, ctx) => field(order, ctx, 'autoDelivery'),
    }),
    entityType: t.field({
      type: EntityType,
      nullable: true,
      description: 'What was ordered; the supplier says so for product orders only, so null for most SMM orders.',
      resolve: (order, _args, ctx) => field(order, ctx, 'entityType'),
    }),
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

const SubscriptionOrderInput = builder.inputType('SubscriptionOrderInput', {
  description: "A Subscriptions order: units for each new post of a user, each within the service's `min` to `max`.",
  fields: (t) => ({
    username: t.string({ required: true, description: 'The user whose new posts get the units.' }),
    min: t.int({ required: true, description: 'The fewest units a post gets.' }),
    max: t.int({ required: true, description: 'The most units a post gets; the estimate charges `max` for each post.' }),
    posts: t.int({ description: 'How many new posts it covers; the supplier decides when absent, and the estimate counts one.' }),
    oldPosts: t.int({ description: 'How many of the posts already there it covers too.' }),
    delay: t.int({
      required: true,
      description:
        'Minutes after a post before delivery starts: 0, 5, 10, 15, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540 or 600.',
    }),
    expiry: t.string({ description: 'The last day it runs, as YYYY-MM-DD; none when absent.' }),
  }),
});

const AddOrderInput = builder.inputType('AddOrderInput', {
  description:
    'An order to place. Besides `serviceId`, it takes the fields the service\'s `type` needs, and no others: see docs/frontend.md, "Ordering by service type".',
  fields: (t) => ({
    serviceId: t.id({ required: true, description: 'The service to order (`Service.id`).' }),
    link: t.string({
      description: 'Required for SMM services except Subscriptions, which take none; optional delivery e-mail or reference for products.',
    }),
    quantity: t.int({
      required: true,
      defaultValue: 0,
      description:
        "Units to order, from the service's `min` to its `max` (and at most its stock for products). Left out (0) for the types that count it themselves or have none: Package, Custom Comments, Mentions, Mentions with Hashtags, Subscriptions.",
    }),
    runs: t.int({
      description:
        'Drip-feed, on a service with `dripfeed` true, with `interval`: the quantity is delivered this many times (and charged as many).',
    }),
    interval: t.int({ description: 'Drip-feed, with `runs`: minutes between runs.' }),
    comments: t.stringList({ description: 'Custom Comments: one comment per entry; their number is the quantity.' }),
    usernames: t.stringList({ description: 'Mentions, Mentions with Hashtags: one user per entry; their number is the quantity.' }),
    hashtags: t.stringList({ description: 'Mentions with Hashtags: one hashtag per entry.' }),
    hashtag: t.string({ description: 'Mentions Hashtag: the hashtag whose users are mentioned.' }),
    username: t.string({
      description: "Mentions User Followers: the user whose followers are mentioned; Comment Likes: the comment's author.",
    }),
    media: t.string({ description: 'Mentions Media Likers: the post whose likers are mentioned.' }),
    answerNumber: t.int({ description: 'Poll: the answer to vote for, from 1.' }),
    groups: t.stringList({ description: 'Invites from Groups: one group per entry.' }),
    keywords: t.stringList({ description: 'SEO: one keyword per entry.' }),
    subscription: t.field({ type: SubscriptionOrderInput, description: 'Subscriptions: which posts, and how many units each.' }),
    onBehalfOf: t.string({
      description:
        "A backend's placement for a signed-in customer: the identity provider's subject (`sub`) of the customer, who then owns it (sees, lists and watches it with its own token); the backend keeps reading it, and the customer's spend limit does not apply. Only for gateway-token callers (`GATEWAY_TOKENS`); others get FORBIDDEN.",
    }),
    idempotencyKey: t.string({
      description:
        'Repeating a mutation with the same key returns the first result and places nothing new. Per caller, kept `IDEMPOTENCY_TTL_S` (24 h); up to 255 characters. Reusing it with different input is BAD_USER_INPUT.',
    }),
  }),
});

/** Texts trimmed, in a fixed field order, absent fields left out: the ledger keeps it and idempotency fingerprints it. */
function newOrder(input: typeof AddOrderInput.$inferInput): NewOrder {
  const { subscription } = input;
  const list = (values: readonly string[] | null | undefined) => values?.map((value) => value.trim());
  return present({
    serviceId: supplierId(input.serviceId, 'serviceId'),
    quantity: input.quantity === 0 ? undefined : input.quantity,
    link: optionalText(input.link, 'link'),
    runs: input.runs ?? undefined,
    interval: input.interval ?? undefined,
    comments: list(input.comments),
    usernames: list(input.usernames),
    hashtags: list(input.hashtags),
    hashtag: optionalText(input.hashtag, 'hashtag'),
    username: optionalText(input.username, 'username'),
    answerNumber: input.answerNumber ?? undefined,
    media: optionalText(input.media, 'media'),
    groups: list(input.groups),
    keywords: list(input.keywords),
    subscription: subscription
      ? present({
          username: subscription.username.trim(),
          min: subscription.min,
          max: subscription.max,
          posts: subscription.posts ?? undefined,
          oldPosts: subscription.oldPosts ?? undefined,
          delay: subscription.delay,
          expiry: optionalText(subscription.expiry, 'subscription.expiry'),
        })
      : undefined,
  });
}

const present = <T extends object>(fields: T): T =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;

builder.queryFields((t) => ({
  order: t.field({
    authScopes: { 'orders:read': true },
    type: Order,
    nullable: true,
    description:
      'One order by id, with its live status (one supplier call). Errors: NOT_FOUND (no such order, or in server-key mode one another caller placed), BAD_USER_INPUT (malformed id), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: { id: t.arg.id({ required: true, description: 'The order id, as `addOrder` returned it.' }) },
    resolve: async (_root, args, ctx) => {
      return known(await ctx.loaders.orderStatus.load(orderId(args.id, 'id')));
    },
  }),
  orders: t.field({
    authScopes: { 'orders:read': true },
    type: [Order],
    nullable: { list: false, items: true },
    description:
      'Several orders by id, in one supplier call where the supplier takes many ids (`status` with `orders=`), else one call per distinct id: one entry per id, in the same order; null with a NOT_FOUND error at that path for an id the supplier does not know. Errors: BAD_USER_INPUT (no ids, more than 100, or a malformed one), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: { ids: t.arg.idList({ required: true, description: '1 to 100 order ids.' }) },
    resolve: (_root, args, ctx) => orderIdList(args.ids, 'ids').map(async (id) => known(await ctx.loaders.orderStatus.load(id))),
  }),
}));

builder.mutationField('addOrder', (t) =>
  t.field({
    authScopes: { 'orders:place': true },
    type: Order,
    description:
      'Places an order and charges the balance. Checked first, before anything is spent: the service exists, the input has the fields its `type` needs and no others, `quantity` (or the number of `comments` or `usernames`) is within min..max, SMM services have a `link` (Subscriptions none), products are in stock, the balance covers the estimate. Errors: BAD_USER_INPUT, NOT_FOUND (no such service), INSUFFICIENT_BALANCE, OUT_OF_STOCK, UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE (with `orderMayExist: true` when the supplier may have placed it: retry with the same `idempotencyKey`, or look in `placedOrders`), UPSTREAM_ERROR.',
    args: { input: t.arg({ type: AddOrderInput, required: true, description: 'What to order.' }) },
    resolve: async (_root, { input }, ctx) => ({
      id: await addOrder(ctx, newOrder(input), { idempotencyKey: input.idempotencyKey, onBehalfOf: onBehalfOf(ctx, input.onBehalfOf) }),
    }),
  }),
);

builder.subscriptionFields((t) => ({
  orderStatus: t.field({
    authScopes: { 'orders:read': true },
    type: Order,
    description:
      'The order now, then each change of the selected fields, completing after a final status. Polled once per order however many watch it. Errors (as a last payload, then completion): NOT_FOUND, BAD_USER_INPUT, UNAUTHENTICATED, RATE_LIMITED (too many subscriptions), UPSTREAM_UNAVAILABLE (supplier failing past `POLL_FAILURE_LIMIT_MS`, or the gateway restarting over SSE).',
    args: { id: t.arg.id({ required: true, description: 'The order id.' }) },
    subscribe: (_root, args, ctx) => watchOrderStatus(ctx, orderId(args.id, 'id')),
    resolve: known,
  }),
  orderUpdates: t.field({
    authScopes: { 'orders:read': true },
    type: Order,
    description:
      'Each order now, then each change of any of them, completing when all are final; each id counts as one subscription. Errors (as a last payload, then completion): NOT_FOUND, BAD_USER_INPUT (no ids, more than 100, or a malformed one), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: { ids: t.arg.idList({ required: true, description: '1 to 100 order ids.' }) },
    subscribe: (_root, args, ctx) => watchOrders(ctx, orderIdList(args.ids, 'ids')),
    resolve: known,
  }),
}));
