import { ERRORS } from './errors.ts';
import { PREMIUM_PACKAGE, type FixedService } from './smm/catalogue-data.ts';
import type { OrderPhase } from './smm/orders.ts';
import { DEFAULT_KEYS, type SandboxKey } from './world/accounts.ts';
import { formatGrouped, formatMoney, formatPrice, type Decimal } from './world/money.ts';

/**
 * Which panel the sandbox plays. `hstock` is HstockPlus as its page documents it. `panel` is another
 * panel of the API v2 family, written elsewhere, so that a client can be tested against both: it
 * prints amounts through a thousands-separating formatter, lacks the actions and fields HstockPlus
 * added to the family, ignores the `services` filters, has its own status words, and refuses with
 * HTTP 4xx statuses. Both run the same world: orders, refunds and timings do not depend on the flavour.
 */
export const FLAVOUR_NAMES = ['hstock', 'panel'] as const;
export type FlavourName = (typeof FLAVOUR_NAMES)[number];

interface Refusal {
  status: number;
  error: string;
}

export interface Flavour {
  name: FlavourName;
  /** What `npm run sandbox` says it serves. */
  title: string;
  /** Balances, service rates and order charges. */
  money(amount: Decimal): string;
  /** SMS prices and charges. */
  smsMoney(amount: Decimal): string;
  /** Actions of the supplier's page that this panel does not have: it answers them as unknown. */
  missingActions: ReadonlySet<string>;
  /** `services` items carry stock, entityType and autoDelivery. */
  serviceDetails: boolean;
  /** `services` honours `category` and `subcategory`. */
  filtersServices: boolean;
  statuses: Readonly<Record<OrderPhase, string>>;
  /** The text of an outage said with HTTP 200, unless the fault spec gives its own. */
  outageText: string;
  /** How the panel says a refusal that the sandbox names by its HstockPlus text. */
  refuse(error: string): Refusal;
  /** The accounts it starts with, unless the options give keys. */
  keys: readonly SandboxKey[];
  /** Services listed after the seeded catalogue. */
  fixedServices: readonly FixedService[];
}

const HSTOCK: Flavour = {
  name: 'hstock',
  title: 'HstockPlus',
  money: formatMoney,
  smsMoney: formatPrice,
  missingActions: new Set(),
  serviceDetails: true,
  filtersServices: true,
  // HstockPlus documents five statuses: it has no word for an order it could not run, nor one apart from
  // In progress for an order that has started without delivering yet.
  statuses: {
    pending: 'Pending',
    processing: 'In progress',
    inProgress: 'In progress',
    completed: 'Completed',
    partial: 'Partial',
    canceled: 'Canceled',
    failed: 'Canceled',
  },
  outageText: ERRORS.temporarilyUnavailable,
  refuse: (error) => ({ status: 200, error }),
  keys: DEFAULT_KEYS,
  fixedServices: [],
};

/** Balances above 1,000 under the same keys as HstockPlus's, so separators show and tests switch flavour alone. */
export const PANEL_KEYS: readonly SandboxKey[] = [
  { key: 'sandbox-demo-key', balance: '2500.00' },
  { key: 'sandbox-empty-key', balance: '0.00' },
  { key: 'sandbox-reseller-key', balance: '1250.00', rateMultiplier: '0.8', hiddenCategories: ['Spotify'] },
];

/** The refusals the panel says otherwise than HstockPlus; any other is HTTP 400 with the same text. */
const PANEL_REFUSALS = new Map<string, Refusal>([
  [ERRORS.invalidKey, { status: 401, error: ERRORS.invalidKey }],
  [ERRORS.invalidAction, { status: 400, error: ERRORS.unknownAction }],
  [ERRORS.orderNotFound, { status: 404, error: ERRORS.incorrectOrderId }],
  [ERRORS.insufficientBalance, { status: 400, error: ERRORS.notEnoughFunds }],
]);

const PANEL: Flavour = {
  name: 'panel',
  title: 'SMM panel (flavour panel)',
  money: formatGrouped,
  smsMoney: formatGrouped,
  missingActions: new Set(['categories', 'inventory']),
  serviceDetails: false,
  filtersServices: false,
  statuses: {
    pending: 'Pending',
    processing: 'Processing',
    inProgress: 'In progress',
    completed: 'Completed',
    partial: 'Partial',
    canceled: 'Refunded',
    failed: 'Fail',
  },
  outageText: ERRORS.databaseDown,
  refuse: (error) => PANEL_REFUSALS.get(error) ?? { status: 400, error },
  keys: PANEL_KEYS,
  fixedServices: [PREMIUM_PACKAGE],
};

const FLAVOURS: Record<FlavourName, Flavour> = { hstock: HSTOCK, panel: PANEL };

/** Callers in plain JavaScript or from configuration can pass any string: a wrong one stops at once. */
export function flavourNamed(name: string): Flavour {
  if (!(FLAVOUR_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`flavour must be one of ${FLAVOUR_NAMES.join(', ')} (got ${JSON.stringify(name)})`);
  }
  return FLAVOURS[name as FlavourName];
}
