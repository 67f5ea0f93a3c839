import { SandboxInputError } from '../errors.ts';
import { credit, type Account } from '../world/accounts.ts';
import { scale, type Decimal } from '../world/money.ts';
import { mulberry32, pick, randomInt, seedFor, type Random } from '../world/random.ts';
import type { Service } from './catalogue.ts';
import type { DripFeed } from './service-types.ts';

/**
 * How an order ends. `failed`: the panel could not run it; as with `canceled`, nothing is delivered,
 * all refunded, unless a `cancel` asked for it kept what was delivered by then.
 */
type Outcome = 'completed' | 'partial' | 'canceled' | 'failed';

/**
 * Where an order stands, in the sandbox's own words; each flavour has its status text for each.
 * `processing`: out of Pending with nothing delivered yet.
 */
export type OrderPhase = 'pending' | 'processing' | 'inProgress' | 'completed' | 'partial' | 'canceled' | 'failed';

export interface OrderPatch {
  outcome?: Outcome;
  /** Answered verbatim as `status`, to test clients against statuses they do not know. */
  rawStatus?: string;
}

export interface Order {
  id: number;
  account: Account;
  service: Service;
  quantity: number;
  charge: Decimal;
  startCount: number;
  pendingEnd: number;
  runMs: number;
  steps: number;
  outcome: Outcome;
  /** What a Partial leaves undelivered, drawn up front so forcing Partial stays deterministic. */
  partialRemains: number;
  /** Units delivered by the end: the quantity, fewer for Partial. */
  target: number;
  finalAt: number;
  /** Product credentials, revealed as they are delivered. */
  accounts: string[];
  rawStatus?: string;
  settled: boolean;
  /** A `cancel` was asked for it. */
  cancelAsked?: boolean;
}

export interface OrderState {
  phase: OrderPhase;
  delivered: number;
}

interface Timing {
  pending: number;
  run: (quantity: number) => number;
  /** Deliveries come in this many equal parts over the run. */
  parts: (quantity: number) => number;
}

/** How long each kind of order takes, in sandbox seconds. */
const TIMINGS: Record<'smm' | 'autoProduct' | 'manualProduct', Timing> = {
  smm: { pending: 30, run: (quantity) => Math.min(60 + quantity / 100, 30 * 60), parts: (quantity) => quantity },
  autoProduct: { pending: 3, run: () => 0, parts: () => 1 },
  manualProduct: { pending: 60, run: () => 6 * 60, parts: (quantity) => Math.min(quantity, 3) },
};

function timingOf(service: Service): Timing {
  if (service.entityType === 'smm') return TIMINGS.smm;
  return service.autoDelivery ? TIMINGS.autoProduct : TIMINGS.manualProduct;
}

export interface Shares {
  partialShare: number;
  cancelShare: number;
}

export interface NewOrder {
  id: number;
  account: Account;
  service: Service;
  quantity: number;
  charge: Decimal;
  now: number;
  seed: number;
  drip?: DripFeed;
}

const ORDER_SALT = 3;

export function createOrder(order: NewOrder, shares: Shares): Order {
  const { id, service, quantity, now } = order;
  const random = mulberry32(seedFor(order.seed, ORDER_SALT, id));
  const smm = service.entityType === 'smm';
  // Only SMM orders fail by themselves; products always deliver unless forced.
  const outcome = smm ? drawOutcome(random(), shares) : 'completed';
  const timing = timingOf(service);
  const { drip, ...placed } = order;
  const created: Order = {
    ...placed,
    startCount: smm ? randomInt(random, 0, 50000) : 0,
    pendingEnd: now + timing.pending * 1000,
    // A drip-feed order delivers one run at the end of each interval.
    runMs: (drip ? drip.runs * drip.intervalMinutes * 60 : timing.run(quantity)) * 1000,
    steps: drip ? drip.runs : timing.parts(quantity),
    outcome,
    partialRemains: randomInt(random, 1, Math.max(1, quantity - 1)),
    target: quantity,
    finalAt: now,
    accounts: smm ? [] : credentials(random, quantity, service.mailDomain),
    settled: false,
  };
  aimAt(created, outcome, now, 0);
  return created;
}

const FIRST = ['james', 'maria', 'liam', 'olivia', 'noah', 'emma', 'lucas', 'mia', 'ethan', 'ava', 'leo', 'zoe'];
const LAST = ['smith', 'garcia', 'miller', 'brown', 'davis', 'lopez', 'wilson', 'moore', 'clark', 'lee'];
const WORDS = ['Sunset', 'Pa55word', 'River', 'Tiger', 'Maple', 'Falcon', 'Comet', 'Harbor', 'Cedar', 'Nova'];
const MARKS = ['!', '#', '$', '@', '%'];

/** Delivered accounts look like the panel's: `user@domain:password`, or `user:password` for social ones. */
function credentials(random: Random, count: number, mailDomain: string | undefined): string[] {
  return Array.from({ length: count }, () => {
    const user = `${pick(random, FIRST)}.${pick(random, LAST)}${randomInt(random, 10, 9999)}`;
    const password = `${pick(random, WORDS)}${randomInt(random, 10, 99)}${pick(random, MARKS)}`;
    return mailDomain ? `${user}@${mailDomain}:${password}` : `${user.replace('.', '_')}:${password}`;
  });
}

function drawOutcome(draw: number, shares: Shares): Outcome {
  if (draw < shares.cancelShare) return 'canceled';
  return draw < shares.cancelShare + shares.partialShare ? 'partial' : 'completed';
}

const refundsAll = (outcome: Outcome): outcome is 'canceled' | 'failed' => outcome === 'canceled' || outcome === 'failed';

function aimAt(order: Order, outcome: Outcome, now: number, delivered: number): void {
  order.outcome = outcome;
  if (refundsAll(outcome)) {
    order.target = 0;
    order.finalAt = Math.max(order.pendingEnd, now);
    return;
  }
  const undelivered = order.quantity - delivered;
  const remains = outcome === 'partial' ? Math.max(1, Math.min(order.partialRemains, undelivered)) : 0;
  order.target = order.quantity - remains;
  order.finalAt = order.pendingEnd + (order.runMs * order.target) / order.quantity;
}

const CANCEL_DELAY_MS = 10_000;

/**
 * A cancel keeps what was delivered when it was asked for and ends the order Canceled a little
 * later, when the refund of the rest is made. Asking again changes nothing.
 */
export function askCancel(order: Order, now: number): void {
  if (order.cancelAsked) return;
  order.cancelAsked = true;
  order.outcome = 'canceled';
  order.target = orderState(order, now).delivered;
  order.finalAt = now + CANCEL_DELAY_MS;
}

export function orderState(order: Order, now: number): OrderState {
  if (now >= order.finalAt) {
    if (refundsAll(order.outcome)) return { phase: order.outcome, delivered: order.target };
    return { phase: order.target === order.quantity ? 'completed' : 'partial', delivered: order.target };
  }
  if (now < order.pendingEnd) return { phase: 'pending', delivered: 0 };
  const part = Math.floor(((now - order.pendingEnd) / order.runMs) * order.steps);
  const delivered = Math.min(order.target, Math.floor((order.quantity * part) / order.steps));
  return { phase: delivered === 0 ? 'processing' : 'inProgress', delivered };
}

/** Refunds what was not delivered, once: the whole charge when nothing was, else the undelivered share. */
export function settleOrder(order: Order, now: number): void {
  if (order.settled || now < order.finalAt) return;
  order.settled = true;
  const remains = order.quantity - orderState(order, now).delivered;
  if (remains === 0) return;
  credit(order.account, remains === order.quantity ? order.charge : scale(order.charge, remains, order.quantity));
  if (order.service.entityType === 'product') order.service.stock += remains;
}

export function patchOrder(order: Order, patch: OrderPatch, now: number): void {
  if (patch.outcome) {
    if (order.settled) throw new SandboxInputError(`order ${order.id} is already final`, 409);
    aimAt(order, patch.outcome, now, orderState(order, now).delivered);
  }
  if (patch.rawStatus !== undefined) order.rawStatus = patch.rawStatus;
}
