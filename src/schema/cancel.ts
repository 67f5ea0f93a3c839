import { cancelOrders } from '../placement/cancel.ts';
import { builder } from './builder.ts';
import { Order } from './order.ts';
import { orderIdList } from './validate.ts';

const CancelResult = builder
  .objectRef<{ orderId: string; requested: boolean; error: string | null; known: boolean }>('CancelResult')
  .implement({
    description:
      'What became of one id of `cancelOrders`. `requested: true` means the supplier took the cancel, not that it is done: the order turns CANCELED (refunding what was not delivered) when the supplier gets to it.',
    fields: (t) => ({
      orderId: t.exposeID('orderId', { description: 'The order id, as it was given.' }),
      requested: t.exposeBoolean('requested', { description: 'Whether the supplier was asked to cancel it and took the request.' }),
      error: t.exposeString('error', {
        nullable: true,
        description:
          "Why it was not asked for (`Order not found`: the caller may not see it, or it does not exist; the service offers no cancel), or the supplier's own error for it. Null when requested.",
      }),
      order: t.field({
        type: Order,
        nullable: true,
        description: 'The order with its live status; null when it is not found.',
        resolve: (result) => (result.known ? { id: result.orderId } : null),
      }),
    }),
  });

builder.mutationField('cancelOrders', (t) =>
  t.field({
    authScopes: { 'orders:place': true },
    type: [CancelResult],
    description:
      'Asks the supplier to cancel up to 100 orders, in one call, and answers one result per id in the same order. Orders the caller may not see, and orders of services without `cancel: true` (where the gateway placed them), get `requested: false` with the reason and cost no call. Never retried. Errors (for the whole call): BAD_USER_INPUT (no ids, more than 100, or a malformed one), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_ERROR (the supplier has no cancel action: `reason: "UNSUPPORTED_ACTION"`), UPSTREAM_UNAVAILABLE (the cancels may have been asked for: read the orders, or ask again).',
    args: { ids: t.arg.idList({ required: true, description: '1 to 100 order ids.' }) },
    resolve: (_root, args, ctx) => cancelOrders(ctx, orderIdList(args.ids, 'ids')),
  }),
);
