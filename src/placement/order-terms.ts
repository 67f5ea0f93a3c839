/**
 * What `add` takes for each service type of the API v2 family, checked before anything is spent:
 * the fields a type needs, those it does not take, and what an order counts and is charged for.
 * A field is named in errors as `AddOrderInput` names it.
 */
import { badInput } from '../errors.ts';
import type { NewOrder, Service, SubscriptionTerms } from '../supplier/types.ts';

export interface OrderTerms {
  /** What the order counts (see orderedQuantity). */
  quantity: number;
  /** What it is charged for: the quantity, times the runs of a drip-feed. */
  units: number;
  /** A Package costs its rate, whatever it holds. */
  flat: boolean;
}

/** The fields of an order that depend on its service's type. */
type TypedField = Exclude<keyof NewOrder, 'serviceId' | 'link'>;

interface Rule {
  needs: readonly TypedField[];
  /** Taken besides, when the caller wants them. */
  may?: readonly TypedField[];
  flat?: boolean;
  /** A Subscriptions order watches a user's new posts: there is no link to send. */
  noLink?: boolean;
}

const DEFAULT: Rule = { needs: ['quantity'], may: ['runs', 'interval'] };
const withQuantity = (field: TypedField): Rule => ({ needs: ['quantity', field] });

/** The family's table of `add` parameters by service type; a type it does not list is read as Default. */
const RULES: ReadonlyMap<string, Rule> = new Map([
  ['Default', DEFAULT],
  ['Package', { needs: [], flat: true }],
  ['SEO', withQuantity('keywords')],
  ['Custom Comments', { needs: ['comments'] }],
  ['Custom Comments Package', { needs: ['comments'] }],
  ['Mentions', { needs: ['usernames'] }],
  ['Mentions Custom List', { needs: ['usernames'] }],
  ['Mentions with Hashtags', { needs: ['usernames', 'hashtags'] }],
  ['Mentions Hashtag', withQuantity('hashtag')],
  ['Mentions User Followers', withQuantity('username')],
  ['Mentions Media Likers', withQuantity('media')],
  ['Comment Likes', withQuantity('username')],
  ['Poll', withQuantity('answerNumber')],
  ['Invites from Groups', withQuantity('groups')],
  ['Subscriptions', { needs: ['subscription'], noLink: true }],
]);

const TYPED_FIELDS: readonly TypedField[] = [
  'quantity',
  'runs',
  'interval',
  'comments',
  'usernames',
  'hashtags',
  'hashtag',
  'username',
  'answerNumber',
  'media',
  'groups',
  'keywords',
  'subscription',
];

/** Sent one entry a line, so an entry may not hold a line break of its own. */
const LISTS = ['comments', 'usernames', 'hashtags', 'groups', 'keywords'] as const;

/** The minutes a Subscriptions order may wait after a post, as the family allows them. */
const SUBSCRIPTION_DELAYS = new Set([0, 5, 10, 15, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540, 600]);

/** Checks an order against its service's type, cheapest first; what it counts and costs when it passes. */
export function orderTerms(order: NewOrder, service: Service): OrderTerms {
  const rule = RULES.get(service.type) ?? DEFAULT;
  const where = `service ${service.id} (${service.type})`;
  for (const field of TYPED_FIELDS) {
    const taken = rule.needs.includes(field) || rule.may?.includes(field);
    if (order[field] !== undefined && !taken) throw badInput(`${field} is not taken by ${where}.`, { field });
  }
  for (const field of rule.needs) {
    if (order[field] === undefined) throw badInput(`${field} is required for ${where}.`, { field });
  }
  if (rule.noLink && order.link) throw badInput(`link is not taken by ${where}: it follows subscription.username.`, { field: 'link' });
  if (!rule.noLink && service.entityType === 'SMM' && !order.link) {
    throw badInput(`link is required for SMM service ${service.id}.`, { field: 'link' });
  }
  for (const field of LISTS) entries(order[field], field);
  if (order.answerNumber !== undefined) positive(order.answerNumber, 'answerNumber');
  if (order.subscription) subscription(order.subscription, service);
  const quantity = orderedQuantity(order);
  if (order.quantity !== undefined) inRange(positive(order.quantity, 'quantity'), service, 'quantity');
  const list = order.comments ? 'comments' : order.usernames ? 'usernames' : undefined;
  if (list) inRange(quantity, service, list, ' entries');
  return { quantity, units: quantity * dripRuns(order, service, where), flat: rule.flat ?? false };
}

/**
 * What an order counts, from its fields alone (so the ledger can show it): the quantity sent, else
 * the entries of its list, a subscription's `max` for each post, or one package.
 */
export function orderedQuantity(order: NewOrder): number {
  const { quantity, subscription } = order;
  const list = order.comments ?? order.usernames;
  return quantity ?? list?.length ?? (subscription ? subscription.max * (subscription.posts ?? 1) : 1);
}

function entries(list: readonly string[] | undefined, field: string): void {
  if (list === undefined) return;
  if (list.length === 0) throw badInput(`${field} needs at least one entry.`, { field });
  const index = list.findIndex((entry) => entry.trim() === '' || /[\r\n]/.test(entry));
  if (index >= 0) throw badInput(`${field}[${index}] is empty or holds a line break: send one entry per item.`, { field });
}

function positive(value: number, field: string): number {
  if (value < 1) throw badInput(`${field} must be a positive integer, got ${value}.`, { field });
  return value;
}

function inRange(value: number, service: Service, field: string, unit = ''): void {
  if (value < service.min || value > service.max) {
    throw badInput(`${field} must be from ${service.min} to ${service.max}${unit} for service ${service.id}, got ${value}.`, { field });
  }
}

/** Each post gets from `min` to `max` units, each within the service's own range. */
function subscription(terms: SubscriptionTerms, service: Service): void {
  if (terms.username === '') throw badInput('subscription.username is required.', { field: 'subscription.username' });
  inRange(terms.min, service, 'subscription.min');
  inRange(terms.max, service, 'subscription.max');
  if (terms.min > terms.max) throw badInput('subscription.min must not be greater than subscription.max.', { field: 'subscription.min' });
  if (terms.posts !== undefined) positive(terms.posts, 'subscription.posts');
  if (terms.oldPosts !== undefined) positive(terms.oldPosts, 'subscription.oldPosts');
  if (!SUBSCRIPTION_DELAYS.has(terms.delay)) {
    throw badInput(`subscription.delay must be one of ${[...SUBSCRIPTION_DELAYS].join(', ')} minutes, got ${terms.delay}.`, {
      field: 'subscription.delay',
    });
  }
  if (terms.expiry !== undefined && !isDate(terms.expiry)) {
    throw badInput(`subscription.expiry must be a date, YYYY-MM-DD.`, { field: 'subscription.expiry' });
  }
}

/** YYYY-MM-DD, a day that exists. */
function isDate(value: string): boolean {
  const [, year, month, day] = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)?.map(Number) ?? [];
  if (year === undefined || month === undefined || day === undefined) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Drip-feed, on a service listed with `dripfeed` only: `runs` and `interval` together, the quantity delivered each run. */
function dripRuns(order: NewOrder, service: Service, where: string): number {
  const { runs, interval } = order;
  if (runs === undefined && interval === undefined) return 1;
  const field = runs === undefined ? 'interval' : 'runs';
  if (!service.dripfeed) throw badInput(`${where} does not take drip-feed ${field}.`, { field });
  if (runs === undefined) throw badInput('runs is required with interval (drip-feed).', { field: 'runs' });
  if (interval === undefined) throw badInput('interval is required with runs (drip-feed).', { field: 'interval' });
  positive(interval, 'interval');
  return positive(runs, 'runs');
}
