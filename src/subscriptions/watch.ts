/**
 * What a subscription watches, through the poll hub: one loop per tenant and order however many
 * watch it, a tenant's orders polled together (one `status` call per 100). Each poll reads through
 * fresh loaders, so a long-lived subscription never sees a stale per-request cache.
 */
import { errorFromSupplier, GatewayError, isGatewayError } from '../errors.ts';
import type { OperationContext } from '../graphql/context.ts';
import { rateLimited } from '../limits/upstream-guard.ts';
import type { PlacementKind } from '../state/store.ts';
import { Loaders, STATUSES_PER_CALL } from '../supplier/loaders.ts';
import { isFinalOrder, isFinalRefill, isFinalSms, smsMessage } from '../supplier/states.ts';
import type { OrderState, RefillState, SmsOrderState } from '../supplier/types.ts';
import { merge } from './merge.ts';

/**
 * Each watched id is one subscription start, taken from the tenant's bucket all or none: a start
 * to an order no loop watches yet costs a supplier call, and a socket can send thousands a second.
 */
function start(ctx: OperationContext, count: number): void {
  ctx.watched += count;
  takeStarts(ctx.runtime, ctx.supplier.limitKey, count);
}

type Runtime = OperationContext['runtime'];

function takeStarts(runtime: Runtime, limitKey: string, count: number): void {
  const wait = runtime.subscriptionStarts.take(limitKey, count);
  if (wait > 0) {
    throw rateLimited(wait, `More than ${runtime.config.subscriptionStarts.perSecond} subscription starts a second for this key.`, {
      reason: 'SUBSCRIPTION_RATE',
    });
  }
}

/** A watcher may watch only what it may read: any other id is NOT_FOUND, before any loop starts. */
async function ensureVisible(ctx: OperationContext, kind: PlacementKind, ids: readonly string[]) {
  const visible = await ctx.loaders.visible(kind, ids);
  if (visible.includes(false)) throw errorFromSupplier('Order not found', kind === 'order' ? 'status' : 'sms_status');
}

const same = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);

const tooMany = (limit: number) =>
  new GatewayError('RATE_LIMITED', `At most ${limit} subscriptions per tenant are allowed.`, {
    extensions: { reason: 'SUBSCRIPTIONS_PER_TENANT' },
  });

/**
 * With Redis, `count` places under the tenant's limit counted across all instances; each place is
 * given back when its watch ends. Redis away: the hub's count in this instance is the limit.
 */
async function places(runtime: Runtime, limitKey: string, count: number): Promise<Array<() => void>> {
  const shared = runtime.sharedLimits;
  const limit = runtime.config.subscriptionsPerTenant;
  const taken: Array<() => void> = [];
  if (!shared) return Array.from({ length: count }, () => nothing);
  try {
    while (taken.length < count) {
      if (!(await shared.acquire(limitKey, limit))) throw tooMany(limit);
      let given = false;
      taken.push(() => {
        if (!given) void shared.release(limitKey).catch(() => undefined);
        given = true;
      });
    }
    return taken;
  } catch (error) {
    for (const give of taken) give();
    if (isGatewayError(error, 'RATE_LIMITED')) throw error;
    return Array.from({ length: count }, () => nothing);
  }
}

const nothing = () => {};

/**
 * A subscriber joining a group whose execution runs already (groups.ts) takes what that execution
 * took for its first subscriber: `count` starts, and `count` places under the tenant's limit, in
 * this instance and with Redis across all. Resolves to how to give the places back.
 */
export async function admitWatcher(runtime: Runtime, limitKey: string, count: number): Promise<() => void> {
  takeStarts(runtime, limitKey, count);
  const local = runtime.hub.hold(limitKey, count);
  try {
    const shared = await places(runtime, limitKey, count);
    return () => {
      local();
      for (const give of shared) give();
    };
  } catch (error) {
    local();
    throw error;
  }
}

function watchOrder({ supplier, runtime }: OperationContext, id: string, onEnd: () => void) {
  return runtime.hub.watch<OrderState>(
    supplier.tenant,
    `order:${id}`,
    () => ({
      batch: {
        group: 'order',
        id,
        perCall: () => (supplier.manyStatuses ? STATUSES_PER_CALL : 1),
        read: (ids) => new Loaders(supplier, runtime.state.ledger).orderStates(ids),
      },
      same,
      isFinal: isFinalOrder,
      intervalMs: runtime.config.orderPollMs,
      maxIntervalMs: runtime.config.orderPollMaxMs,
    }),
    onEnd,
    supplier.limitKey,
  );
}

/** One watch per distinct id; if one is refused (the tenant's limit), those already made are closed. */
export async function watchOrders(ctx: OperationContext, ids: readonly string[]) {
  const distinct = [...new Set(ids)];
  start(ctx, distinct.length);
  await ensureVisible(ctx, 'order', ids);
  const held = await places(ctx.runtime, ctx.supplier.limitKey, distinct.length);
  const sources: AsyncIterableIterator<OrderState>[] = [];
  try {
    for (const [index, id] of distinct.entries()) sources.push(watchOrder(ctx, id, held[index]!));
  } catch (error) {
    for (const source of sources) void source.return?.();
    for (const give of held.slice(sources.length)) give();
    throw error;
  }
  return merge(sources);
}

export async function watchOrderStatus(ctx: OperationContext, id: string) {
  start(ctx, 1);
  await ensureVisible(ctx, 'order', [id]);
  const [give] = await places(ctx.runtime, ctx.supplier.limitKey, 1);
  try {
    return watchOrder(ctx, id, give!);
  } catch (error) {
    give!();
    throw error;
  }
}

/** `sms_status` each poll, and the message text once a code is there; never backs off. */
export async function watchSms(ctx: OperationContext, id: string) {
  start(ctx, 1);
  await ensureVisible(ctx, 'sms', [id]);
  const { supplier, runtime } = ctx;
  const [give] = await places(ctx.runtime, ctx.supplier.limitKey, 1);
  const spec = () => ({
    poll: async () => {
      const loaders = new Loaders(supplier, runtime.state.ledger);
      const state = await loaders.smsStatus.load(id);
      return { ...state, smsContent: await smsMessage(state, loaders) };
    },
    same,
    isFinal: isFinalSms,
    intervalMs: runtime.config.smsPollMs,
    maxIntervalMs: runtime.config.smsPollMs,
  });
  try {
    return runtime.hub.watch<SmsOrderState>(supplier.tenant, `sms:${id}`, spec, give, supplier.limitKey);
  } catch (error) {
    give!();
    throw error;
  }
}

/**
 * A refill the caller may see (the ledger's, so NOT_FOUND for any other before any loop starts),
 * polled like orders: a tenant's watched refills read together, one `refill_status` call per 100.
 */
export async function watchRefill(ctx: OperationContext, id: string) {
  start(ctx, 1);
  await ctx.loaders.refill.load(id);
  const { supplier, runtime } = ctx;
  const [give] = await places(ctx.runtime, ctx.supplier.limitKey, 1);
  try {
    return runtime.hub.watch<RefillState>(
      supplier.tenant,
      `refill:${id}`,
      () => ({
        batch: {
          group: 'refill',
          id,
          perCall: () => (supplier.manyRefillStatuses ? STATUSES_PER_CALL : 1),
          read: (ids) => new Loaders(supplier, runtime.state.ledger).refillStates(ids),
        },
        same,
        isFinal: isFinalRefill,
        intervalMs: runtime.config.orderPollMs,
        maxIntervalMs: runtime.config.orderPollMaxMs,
      }),
      give,
      supplier.limitKey,
    );
  } catch (error) {
    give!();
    throw error;
  }
}
