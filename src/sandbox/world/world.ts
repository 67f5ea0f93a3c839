import { apiLevel, type ApiLevel } from '../api-level.ts';
import { flavourNamed, type Flavour, type FlavourName } from '../flavours.ts';
import { Faults } from '../http/faults.ts';
import type { Fields } from '../http/form.ts';
import type { QuirkSpec } from '../http/quirks.ts';
import { TYPED_SERVICES } from '../smm/catalogue-data.ts';
import { createCatalogue, type Catalogue } from '../smm/catalogue.ts';
import { settleOrder, type Order, type Shares } from '../smm/orders.ts';
import type { Refill } from '../smm/refills.ts';
import { createSmsCatalogue, type SmsCatalogue } from '../sms/catalogue.ts';
import { settleSms, type SmsOrder, type SmsTimings } from '../sms/orders.ts';
import { createAccounts, type Account, type SandboxKey } from './accounts.ts';
import { createClock, type Clock } from './clock.ts';
import { DueQueue } from './due-queue.ts';

/** What an API action gets: the world, the calling key's account and the request's fields. */
export interface ActionContext {
  world: World;
  account: Account;
  fields: Fields;
  /** Sandbox time of this request, after everything due by then has settled. */
  now: number;
}

export interface WorldOptions {
  /** Default 'hstock': HstockPlus as documented; 'panel': another panel of the family (flavours.ts). */
  flavour?: FlavourName;
  /** Default 'full': the whole API v2 family; 'basic': only the supplier's page (api-level.ts). */
  api?: ApiLevel;
  /** Default 42; catalogue and outcomes are deterministic for a seed. */
  seed?: number;
  /** Default 1; 60 => one sandbox minute per real second; 0 freezes the clock, so only advance() moves it. */
  timeScale?: number;
  /**
   * Default: the flavour's keys, demo, empty and reseller (rates x0.8, no Spotify); hstock's hold
   * 1000.00, 0.00 and 250.00 (DEFAULT_KEYS), the panel's 2500.00, 0.00 and 1250.00 (PANEL_KEYS).
   */
  keys?: SandboxKey[];
  /** Share of SMM orders that end Partial (default 0.1). */
  partialShare?: number;
  /** Share of SMM orders that end Canceled (default 0.05). */
  cancelShare?: number;
  /** Default 30 sandbox seconds. */
  smsCodeDelaySeconds?: number;
  /** Default 1200 sandbox seconds. */
  smsLifetimeSeconds?: number;
  /** Share of SMS orders that never get a code and expire (default 0.1). */
  smsNoCodeShare?: number;
  /** Share of refills that end Rejected (default 0.2). */
  refillRejectShare?: number;
}

/** Everything the simulated supplier knows. Handlers read and change it; nothing else holds state. */
export interface World {
  flavour: Flavour;
  api: ApiLevel;
  seed: number;
  clock: Clock;
  catalogue: Catalogue;
  sms: SmsCatalogue;
  accounts: Map<string, Account>;
  orders: Map<number, Order>;
  smsOrders: Map<number, SmsOrder>;
  refills: Map<number, Refill>;
  shares: Shares;
  refillRejectShare: number;
  smsTimings: SmsTimings;
  nextOrderId: number;
  nextSmsId: number;
  nextRefillId: number;
  /** Orders and numbers waiting to turn final, so refunds and stock settle even if nobody asks. */
  due: DueQueue;
  faults: Faults;
  quirks: QuirkSpec;
  requests: Map<string, number>;
}

const FIRST_ORDER_ID = 100001;
const FIRST_SMS_ID = 700001;
const FIRST_REFILL_ID = 300001;

export function createWorld(options: WorldOptions): World {
  const flavour = flavourNamed(options.flavour ?? 'hstock');
  const api = apiLevel(options.api ?? 'full');
  const seed = options.seed ?? 42;
  const timeScale = options.timeScale ?? 1;
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer (got ${seed})`);
  if (!Number.isFinite(timeScale) || timeScale < 0) {
    throw new RangeError(`timeScale must be 0 or more (got ${timeScale})`);
  }
  const shares = {
    partialShare: share(options.partialShare ?? 0.1, 'partialShare'),
    cancelShare: share(options.cancelShare ?? 0.05, 'cancelShare'),
  };
  if (shares.partialShare + shares.cancelShare > 1) {
    throw new RangeError('partialShare + cancelShare must not exceed 1');
  }
  return {
    flavour,
    api,
    seed,
    clock: createClock(timeScale),
    catalogue: createCatalogue(seed, flavour.fixedServices, api === 'full' ? TYPED_SERVICES : []),
    sms: createSmsCatalogue(seed),
    accounts: createAccounts(options.keys ?? flavour.keys),
    orders: new Map(),
    smsOrders: new Map(),
    refills: new Map(),
    shares,
    refillRejectShare: share(options.refillRejectShare ?? 0.2, 'refillRejectShare'),
    smsTimings: {
      codeDelayMs: seconds(options.smsCodeDelaySeconds ?? 30, 'smsCodeDelaySeconds') * 1000,
      lifetimeMs: seconds(options.smsLifetimeSeconds ?? 1200, 'smsLifetimeSeconds') * 1000,
      noCodeShare: share(options.smsNoCodeShare ?? 0.1, 'smsNoCodeShare'),
    },
    nextOrderId: FIRST_ORDER_ID,
    nextSmsId: FIRST_SMS_ID,
    nextRefillId: FIRST_REFILL_ID,
    due: new DueQueue(),
    faults: new Faults(seed, flavour.outageText),
    quirks: {},
    requests: new Map(),
  };
}

function share(value: number, name: string): number {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be from 0 to 1 (got ${value})`);
  return value;
}

function seconds(value: number, name: string): number {
  if (!(value >= 0 && Number.isFinite(value))) throw new RangeError(`${name} must be 0 or more (got ${value})`);
  return value;
}

/** Settles everything that has turned final by now and returns now: call it first on every request. */
export function settleDue(world: World): number {
  const now = world.clock.now();
  world.due.runUntil(now);
  return now;
}

export function watchOrder(world: World, order: Order): void {
  world.due.push(order.finalAt, (now) => settleOrder(order, now));
}

export function watchSms(world: World, order: SmsOrder): void {
  world.due.push(order.finalAt, (now) => settleSms(order, now));
}
