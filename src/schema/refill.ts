import type { Context } from '../graphql/context.ts';
import { refillOrder } from '../placement/placement.ts';
import { watchRefill } from '../subscriptions/watch.ts';
import { current, isFinalRefill, type StateRef } from '../supplier/states.ts';
import type { RefillState } from '../supplier/types.ts';
import { builder } from './builder.ts';
import { orderId } from './validate.ts';

const RefillStatus = builder.enumType('RefillStatus', {
  description: "Where a refill stands, from the supplier's status string. COMPLETED and REJECTED are final.",
  values: {
    PENDING: { description: 'Asked for, not started yet.' },
    IN_PROGRESS: { description: 'The supplier is delivering the units the order lost.' },
    COMPLETED: { description: 'Refilled. Final.' },
    REJECTED: { description: 'The supplier refused or gave up the refill (rejected, canceled, failed: see rawStatus). Final.' },
    UNKNOWN: { description: 'A status string the gateway does not know; see rawStatus.' },
  } as const,
});

/** A refill by id; its order is known when it was asked for, else read from the ledger once per request. */
type RefillRef = StateRef<RefillState> & { orderId?: string };

const known = (state: RefillState): RefillRef => ({ id: state.id, known: state });

const field = <K extends keyof RefillState>(refill: RefillRef, ctx: Context, name: K) => current(refill, name, ctx.loaders.refillStatus);

export const Refill = builder.objectRef<RefillRef>('Refill').implement({
  description:
    "A refill of an order: the supplier delivers again what the order lost, within the service's refill guarantee. Its status is read live, like an order's.",
  fields: (t) => ({
    id: t.exposeID('id', { description: "The supplier's refill id." }),
    orderId: t.id({
      description: 'The order it refills.',
      resolve: async (refill, _args, ctx) => refill.orderId ?? (await ctx.loaders.refill.load(refill.id)).orderId,
    }),
    status: t.field({
      type: RefillStatus,
      description: 'Where the refill stands.',
      resolve: (refill, _args, ctx) => field(refill, ctx, 'status'),
    }),
    rawStatus: t.string({
      description: 'The status string exactly as the supplier sent it.',
      resolve: (refill, _args, ctx) => field(refill, ctx, 'rawStatus'),
    }),
    isFinal: t.boolean({
      description: 'True for COMPLETED and REJECTED: the status will not change again.',
      resolve: async (refill, _args, ctx) => isFinalRefill({ status: await field(refill, ctx, 'status') }),
    }),
  }),
});

const RefillOrderInput = builder.inputType('RefillOrderInput', {
  description: 'A refill to ask for.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'The order to refill: one the caller may see, of a service with `refill: true`.' }),
    idempotencyKey: t.string({
      description:
        'Repeating the mutation with the same key returns the first refill and asks for nothing new. As for `addOrder`: per caller, kept `IDEMPOTENCY_TTL_S`, up to 255 characters.',
    }),
  }),
});

builder.mutationField('refillOrder', (t) =>
  t.field({
    authScopes: { 'orders:place': true },
    type: Refill,
    description:
      'Asks the supplier to refill an order (deliver again what it lost). Checked first, with no supplier call: the caller may see the order (else NOT_FOUND, as for an order that does not exist), and its service has `refill: true` (else BAD_USER_INPUT with `reason: "REFILL_UNAVAILABLE"`) where the gateway placed the order. Never retried. Errors: BAD_USER_INPUT, NOT_FOUND, UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_ERROR (the supplier refused, with its text in `upstreamMessage`: the order is not completed, a refill is already running; or the supplier has no refill action, `reason: "UNSUPPORTED_ACTION"`), UPSTREAM_UNAVAILABLE (with `orderMayExist: true` when the refill may have been asked for: retry with the same `idempotencyKey`).',
    args: { input: t.arg({ type: RefillOrderInput, required: true, description: 'What to refill.' }) },
    resolve: async (_root, { input }, ctx) => {
      const id = orderId(input.orderId, 'orderId');
      const refill = await refillOrder(ctx, id, input.idempotencyKey);
      return { id: refill.id, orderId: refill.orderId };
    },
  }),
);

builder.queryField('refill', (t) =>
  t.field({
    authScopes: { 'orders:read': true },
    type: Refill,
    nullable: true,
    description:
      'A refill asked for through this gateway, with its live status (one supplier call). Errors: NOT_FOUND (no such refill, one another caller asked for, or one asked for outside this gateway, whose order the gateway cannot know), BAD_USER_INPUT (malformed id), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: { id: t.arg.id({ required: true, description: 'The refill id, as `refillOrder` returned it.' }) },
    resolve: async (_root, args, ctx) => {
      const ref = await ctx.loaders.refill.load(orderId(args.id, 'id'));
      return known(await ctx.loaders.refillStatus.load(ref.id));
    },
  }),
);

builder.subscriptionField('refillStatus', (t) =>
  t.field({
    authScopes: { 'orders:read': true },
    type: Refill,
    description:
      "The refill now, then each change of the selected fields, completing after a final status. Polled like orders: once per refill however many watch it, a tenant's refills read together. Errors (as a last payload, then completion): NOT_FOUND, BAD_USER_INPUT, UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.",
    args: { id: t.arg.id({ required: true, description: 'The refill id.' }) },
    subscribe: (_root, args, ctx) => watchRefill(ctx, orderId(args.id, 'id')),
    resolve: known,
  }),
);
