/**
 * Placing orders and renting numbers: the idempotency key claimed first, then everything the
 * gateway can check before money is spent, cheapest first, then the ledger entry written, then
 * the one call that spends, then what the spend made stale and its outcome recorded.
 */
import { randomUUID } from 'node:crypto';
import Big from 'big.js';
import { customerCaller, type Identity } from '../auth/authenticator.ts';
import { seesFigures } from '../auth/scopes.ts';
import { badInput, errorFromSupplier, GatewayError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { placementSpan } from '../observability/tracing.ts';
import type { Placement, StateStore } from '../state/store.ts';
import type { Loaders, RefillRef } from '../supplier/loaders.ts';
import type { Supplier } from '../supplier/supplier.ts';
import type { Decimal, Money, NewOrder, NewSmsOrder, SmsOrderState } from '../supplier/types.ts';
import { idempotent, mayHavePlaced, type IdempotencyPolicy } from './idempotency.ts';
import type { InFlight } from './in-flight.ts';
import { estimateCharge, times } from './money.ts';
import { orderTerms } from './order-terms.ts';
import type { Hold, Reservations } from './reservations.ts';
import { capOf, reserveSpend, type SpendReservation } from './spend-caps.ts';

export interface Spender {
  identity: Identity;
  supplier: Supplier;
  loaders: Loaders;
  runtime: {
    config: { spendLimitPerDay: Decimal | undefined };
    state: StateStore;
    spends: InFlight;
    idempotencyPolicy: IdempotencyPolicy;
    reservations: Reservations;
    responseCache: { invalidate(entities: Iterable<{ typename: string; id?: string }>): unknown };
    /** Told when an outcome could not be recorded after money was spent. */
    onUnrecorded: (error: unknown, placement?: UnrecordedPlacement) => void;
    metrics: Metrics;
    /** Follows what was placed to its end (server-key mode). */
    follower?: { follow(placement: Placement): Promise<void> };
  };
}

/** A placement before it is written: each kind with its own input. */
type Draft = Placement extends infer P ? (P extends Placement ? Omit<P, 'id' | 'placedAt' | 'outcome' | 'orderIds'> : never) : never;

/** Who owns what is placed: the caller, or the customer a backend places it for (who then owns it, the backend reading it too). */
function owner(supplier: Supplier, onBehalfOf?: string): { tenant: string; caller: string; placedBy?: string } {
  const { tenant, caller } = supplier.caller;
  return onBehalfOf === undefined ? { tenant, caller } : { tenant, caller: customerCaller(onBehalfOf), placedBy: caller };
}

/** What a placement is asked with besides its input. */
export interface PlacementOptions {
  idempotencyKey?: string | null;
  /** A backend places for this customer (a subject of the identity provider). */
  onBehalfOf?: string;
}

/** Claims the key, runs the placement, and keeps shutdown waiting until its outcome is recorded. */
function once<T>(ctx: Spender, mutation: string, key: string | null | undefined, input: object, work: () => Promise<T>): Promise<T> {
  const { state, spends, idempotencyPolicy, onUnrecorded } = ctx.runtime;
  const { tenant, caller } = ctx.supplier.caller;
  const options = {
    store: state.idempotency,
    policy: idempotencyPolicy,
    onUnrecorded,
    onReplay: () => ctx.runtime.metrics.idempotentReplays.inc(),
  };
  return spends.track(placementSpan(mutation, () => idempotent(options, { tenant, caller, mutation, key }, input, work)));
}

interface Spending<T> {
  draft: Draft & { estimate: Money };
  /** The estimate held against the balance while the balance may not show the spend. */
  hold: Hold;
  call: () => Promise<T>;
  idsOf: (value: T) => string[];
  /** What the supplier charged, once it says: a capped customer's spend is settled to it. */
  chargeOf: (value: T) => Promise<Decimal | null>;
}

/**
 * The spend, recorded: a customer's estimate reserved under its cap first (spend-caps.ts), and
 * the estimate held against the balance while the balance may not show it.
 */
async function spend<T>(ctx: Spender, { draft, hold, call, idsOf, chargeOf }: Spending<T>): Promise<T> {
  let capped: SpendReservation | undefined;
  try {
    // A backend placing for a customer decided for it: the customer's cap is not applied.
    const limit = draft.placedBy === undefined ? capOf(ctx.identity, ctx.runtime.config.spendLimitPerDay) : undefined;
    if (limit !== undefined)
      capped = await reserveSpend(
        ctx.runtime.state.spends,
        draft,
        limit,
        draft.estimate.amount,
        draft.estimate.currency,
        seesFigures(ctx.identity),
      );
    const value = await record(ctx, draft, call, idsOf);
    hold.end(true);
    if (capped) {
      const reservation = capped;
      void chargeOf(value)
        .then((charge) => (charge === null ? undefined : reservation.settle(charge)))
        .catch(() => undefined);
    }
    return value;
  } catch (error) {
    const placed = mayHavePlaced(error);
    hold.end(placed);
    // Given back only when nothing was placed; an unknown outcome keeps counting against the cap.
    if (capped && !placed) await capped.release().catch(() => undefined);
    throw error;
  }
}

/** What an operator needs to reconcile a placement whose record could not be written: never the key. */
export interface UnrecordedPlacement {
  placement: string;
  kind: Placement['kind'];
  outcome: Placement['outcome'];
  orderIds: string[];
  tenant: string;
}

const unrecorded = (placement: Placement): UnrecordedPlacement => ({
  placement: placement.id,
  kind: placement.kind,
  outcome: placement.outcome,
  orderIds: placement.orderIds,
  tenant: placement.tenant.slice(0, 8),
});

/**
 * Writes the ledger entry (UNCONFIRMED) before the call, so that nothing is spent when the state
 * store is away and a crash mid-call leaves a trace; then PLACED with the ids, UNCONFIRMED again
 * when the call may have placed (the entry written before it may have been lost with a Redis
 * restart), or no entry at all when the failure proves nothing was placed.
 */
async function record<T>(ctx: Spender, draft: Draft, call: () => Promise<T>, idsOf: (value: T) => string[]): Promise<T> {
  const { state, spends } = ctx.runtime;
  if (spends.closing) {
    throw new GatewayError('UPSTREAM_UNAVAILABLE', 'The gateway is restarting: nothing was spent; try again in a moment.', {
      extensions: { reason: 'SHUTTING_DOWN' },
    });
  }
  const { ledger } = state;
  const placement = { ...draft, id: randomUUID(), placedAt: new Date().toISOString(), outcome: 'UNCONFIRMED', orderIds: [] } as Placement;
  await ledger.open(placement);
  let value: T;
  try {
    value = await call();
  } catch (error) {
    const recorded = mayHavePlaced(error) ? ledger.put(placement) : ledger.remove(placement);
    await recorded.catch((failure: unknown) => ctx.runtime.onUnrecorded(failure, unrecorded(placement)));
    throw error;
  }
  const placed: Placement = { ...placement, outcome: 'PLACED', orderIds: idsOf(value) };
  await ledger.put(placed).catch((failure: unknown) => ctx.runtime.onUnrecorded(failure, unrecorded(placed)));
  await ctx.runtime.follower?.follow(placed);
  return value;
}

/** Checks the service, the fields its type takes (order-terms.ts), stock and balance, then places the order; resolves to its id. */
export function addOrder(ctx: Spender, order: NewOrder, { idempotencyKey, onBehalfOf }: PlacementOptions = {}): Promise<string> {
  const fingerprinted = onBehalfOf === undefined ? order : { ...order, onBehalfOf };
  return once(ctx, 'addOrder', idempotencyKey, fingerprinted, async () => {
    const { supplier, loaders } = ctx;
    const service = await loaders.service.load(order.serviceId);
    if (!service) throw new GatewayError('NOT_FOUND', `Service ${order.serviceId} not found.`, { extensions: { field: 'serviceId' } });
    const terms = orderTerms(order, service);
    const [inventory, { balance, readAt }] = await Promise.all([
      service.entityType === 'PRODUCT' ? loaders.inventory.load(service.id) : undefined,
      loaders.balanceRead(),
    ]);
    // A product's live stock, else the catalogue's; a supplier that says neither judges the order itself.
    const stock = service.entityType !== 'PRODUCT' ? null : inventory ? (inventory.available ? inventory.stock : 0) : service.stock;
    if (stock !== null && stock < terms.units) {
      throw new GatewayError('OUT_OF_STOCK', `Only ${stock} in stock for service ${service.id}.`, { extensions: { stock } });
    }
    const estimate = estimateCharge(service, terms);
    const hold = ctx.runtime.reservations.hold(
      supplier.caller.tenant,
      balance,
      readAt,
      estimate,
      'The order costs',
      seesFigures(ctx.identity),
    );
    const draft = {
      kind: 'order' as const,
      ...owner(supplier, onBehalfOf),
      input: order,
      estimate: { amount: estimate, currency: balance.currency },
      idempotencyKey: idempotencyKey?.trim() ?? null,
    };
    try {
      return await spend(ctx, {
        draft,
        hold,
        call: () => supplier.addOrder(order),
        idsOf: (id) => [id],
        // One status read: the charge is there once the supplier accepted the order.
        chargeOf: async (id) =>
          (await loaders.orderStates([id]).then(([state]) => (state instanceof Error ? null : state?.charge?.amount))) ?? null,
      });
    } finally {
      // Cached answers that show this stock are dropped once every instance's stock figure is: an
      // instance told of the answers first could cache them again from its old figure.
      void loaders.spent(service.id).finally(() => ctx.runtime.responseCache.invalidate([{ typename: 'Inventory', id: service.id }]));
    }
  });
}

/** Checks the project, its country and the balance, then rents the numbers. */
export function addSmsOrder(
  ctx: Spender,
  order: NewSmsOrder,
  { idempotencyKey, onBehalfOf }: PlacementOptions = {},
): Promise<SmsOrderState[]> {
  const fingerprinted = onBehalfOf === undefined ? order : { ...order, onBehalfOf };
  return once(ctx, 'addSmsOrder', idempotencyKey, fingerprinted, async () => {
    const { supplier, loaders } = ctx;
    const [projects, { balance, readAt }] = await Promise.all([supplier.smsProjects(), loaders.balanceRead()]);
    const project = projects.find((candidate) => candidate.id === order.projectId);
    if (!project) throw new GatewayError('NOT_FOUND', `SMS project ${order.projectId} not found.`, { extensions: { field: 'projectId' } });
    if (order.country && order.country !== project.countryCode) {
      throw badInput(`SMS project ${project.id} is for country ${project.countryCode}, not ${order.country}.`, { field: 'country' });
    }
    const estimate = times(project.price, order.quantity);
    const hold = ctx.runtime.reservations.hold(
      supplier.caller.tenant,
      balance,
      readAt,
      estimate,
      'The numbers cost',
      seesFigures(ctx.identity),
    );
    const draft = {
      kind: 'sms' as const,
      ...owner(supplier, onBehalfOf),
      input: order,
      estimate: { amount: estimate, currency: balance.currency },
      idempotencyKey: idempotencyKey?.trim() ?? null,
    };
    const price = { amount: project.price, currency: balance.currency };
    try {
      return await spend(ctx, {
        draft,
        hold,
        call: () => supplier.addSms(order, price),
        idsOf: (placed) => placed.map((number) => number.id),
        chargeOf: async (placed) =>
          placed.every((number) => number.charge)
            ? placed.reduce((sum, number) => sum.plus(number.charge!.amount), new Big(0)).toFixed()
            : null,
      });
    } finally {
      void loaders.spent();
    }
  });
}

/**
 * Asks for a refill of an order the caller may see, of a service that offers refills (checked
 * before any call where the ledger knows the order's service; otherwise the supplier judges).
 * Free, but recorded as placements are: the entry makes the caller own the refill and says which
 * order it refills, and a repeat with the same idempotency key asks for nothing new.
 */
export function refillOrder(ctx: Spender, orderId: string, idempotencyKey?: string | null): Promise<RefillRef> {
  return once(ctx, 'refillOrder', idempotencyKey, { orderId }, async () => {
    const { supplier, loaders } = ctx;
    const [[visible], [placement]] = await Promise.all([
      loaders.visible('order', [orderId]),
      ctx.runtime.state.ledger.placementsOf(supplier.caller.tenant, 'order', [orderId]),
    ]);
    if (!visible) throw errorFromSupplier('Order not found', 'refill');
    const service = placement?.kind === 'order' ? await loaders.service.load(placement.input.serviceId) : null;
    if (service && !service.refill) {
      throw badInput(`Service ${service.id}, which order ${orderId} is of, offers no refill.`, {
        field: 'orderId',
        reason: 'REFILL_UNAVAILABLE',
      });
    }
    const draft: Draft = { kind: 'refill', ...owner(supplier), input: { orderId }, idempotencyKey: idempotencyKey?.trim() ?? null };
    const id = await record(
      ctx,
      draft,
      () => supplier.refill(orderId),
      (refill) => [refill],
    );
    return { id, orderId };
  });
}
