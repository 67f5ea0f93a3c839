import { ERRORS, SupplierError } from '../errors.ts';
import { text, wholeNumber, type Fields } from '../http/form.ts';
import type { Service } from './catalogue.ts';

/** What an `add` asks for, read by the rules of its service's type. */
export interface OrderTerms {
  /** Units the order delivers over its life. */
  quantity: number;
  /** A Package costs its rate; any other order its rate per 1,000 (per unit for a product) times the quantity. */
  flat: boolean;
  link: boolean;
  drip?: DripFeed;
}

export interface DripFeed {
  runs: number;
  intervalMinutes: number;
}

type RequiredField = keyof typeof ERRORS.fieldRequired;
type Rule = (fields: Fields, service: Service) => OrderTerms;

const SUBSCRIPTION_DELAYS = new Set([0, 5, 10, 15, 30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540, 600]);
const EXPIRY = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

const byQuantity: Rule = (fields, service) => ({ quantity: requireQuantity(fields, service), flat: false, link: true });

/**
 * The `add` parameters of the service types of the API v2 family that the catalogue carries, each
 * checked in the order of the family's table. A type the table does not know is read as Default.
 */
const RULES = new Map<string, Rule>([
  ['Default', byQuantity],
  ['Package', () => ({ quantity: 1, flat: true, link: true })],
  ['Custom Comments', counted('comments')],
  ['Mentions', counted('usernames')],
  ['Mentions with Hashtags', counted('usernames', 'hashtags')],
  ['Mentions Hashtag', withQuantityAnd('hashtag')],
  ['Mentions User Followers', withQuantityAnd('username')],
  ['Mentions Media Likers', withQuantityAnd('media')],
  ['Comment Likes', withQuantityAnd('username')],
  ['Poll', poll],
  ['Invites from Groups', withQuantityAnd('groups')],
  ['Subscriptions', subscription],
]);

/** `typed` false: a supplier that knows only its page reads `quantity` and `link`, whatever the type. */
export function orderTerms(fields: Fields, service: Service, typed: boolean): OrderTerms {
  if (!typed) return byQuantity(fields, service);
  const terms = (RULES.get(service.type) ?? byQuantity)(fields, service);
  const drip = dripFeed(fields, service);
  return drip ? { ...terms, quantity: terms.quantity * drip.runs, drip } : terms;
}

function requireQuantity(fields: Fields, service: Service): number {
  const raw = text(fields, 'quantity');
  if (raw === undefined) throw new SupplierError(ERRORS.quantityRequired);
  return inRange(wholeNumber(raw), service);
}

function inRange(quantity: number | undefined, service: Service): number {
  if (quantity === undefined || quantity < service.min || quantity > service.max) {
    throw new SupplierError(ERRORS.quantityRange(service.min, service.max));
  }
  return quantity;
}

function requireText(fields: Fields, name: RequiredField): string {
  const value = text(fields, name);
  if (value === undefined) throw new SupplierError(ERRORS.fieldRequired[name]);
  return value;
}

/** One entry per line; the quantity is how many there are. */
function counted(list: RequiredField, also?: RequiredField): Rule {
  return (fields, service) => {
    const entries = lines(requireText(fields, list));
    if (also) requireText(fields, also);
    return { quantity: inRange(entries.length, service), flat: false, link: true };
  };
}

function lines(value: string): string[] {
  return value
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function withQuantityAnd(name: RequiredField): Rule {
  return (fields, service) => {
    const quantity = requireQuantity(fields, service);
    requireText(fields, name);
    return { quantity, flat: false, link: true };
  };
}

function poll(fields: Fields, service: Service): OrderTerms {
  const quantity = requireQuantity(fields, service);
  const answer = wholeNumber(requireText(fields, 'answer_number'));
  if (answer === undefined || answer < 1) throw new SupplierError(ERRORS.incorrect('answer number'));
  return { quantity, flat: false, link: true };
}

/** No link: it watches the user's new posts. Each post gets `max` units at most, so that is what it charges. */
function subscription(fields: Fields, service: Service): OrderTerms {
  requireText(fields, 'username');
  const min = inRange(wholeNumber(requireText(fields, 'min')), service);
  const max = inRange(wholeNumber(requireText(fields, 'max')), service);
  if (min > max) throw new SupplierError(ERRORS.minAboveMax);
  const posts = optionalCount(fields, 'posts') ?? 1;
  optionalCount(fields, 'old_posts');
  const delay = wholeNumber(requireText(fields, 'delay'));
  if (delay === undefined || !SUBSCRIPTION_DELAYS.has(delay)) throw new SupplierError(ERRORS.incorrect('delay'));
  const expiry = text(fields, 'expiry');
  if (expiry !== undefined && !isDate(expiry)) throw new SupplierError(ERRORS.incorrect('expiry'));
  return { quantity: max * posts, flat: false, link: false };
}

function optionalCount(fields: Fields, name: 'posts' | 'old_posts'): number | undefined {
  const raw = text(fields, name);
  if (raw === undefined) return undefined;
  const count = wholeNumber(raw);
  if (count === undefined || count < 1) throw new SupplierError(ERRORS.incorrect(name.replace('_', ' ')));
  return count;
}

/** d/m/Y, a day that exists. */
function isDate(value: string): boolean {
  const [, day, month, year] = EXPIRY.exec(value)?.map(Number) ?? [];
  if (day === undefined || month === undefined || year === undefined) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCDate() === day && date.getUTCMonth() === month - 1;
}

/** `runs` and `interval` (minutes between runs), on a service listed with `dripfeed: true` only. */
function dripFeed(fields: Fields, service: Service): DripFeed | undefined {
  const rawRuns = text(fields, 'runs');
  if (rawRuns === undefined) return undefined;
  if (!service.dripfeed) throw new SupplierError(ERRORS.dripFeedUnavailable);
  const runs = wholeNumber(rawRuns);
  if (runs === undefined || runs < 1) throw new SupplierError(ERRORS.incorrect('runs'));
  const intervalMinutes = wholeNumber(requireText(fields, 'interval'));
  if (intervalMinutes === undefined || intervalMinutes < 1) throw new SupplierError(ERRORS.incorrect('interval'));
  return { runs, intervalMinutes };
}
