/**
 * Tolerant parsing of the supplier's JSON into normalised types. Panels of this family send
 * numbers as strings (thousands separated, see decimal.ts), booleans as 0/1 or "true", statuses
 * in any case and their own words; this file is the only place that knows. A field a panel does
 * not send is null where the schema allows it, never invented.
 */
import { readDecimal } from './decimal.ts';
import type {
  Balance,
  Category,
  EntityType,
  Inventory,
  Money,
  OrderState,
  OrderStatus,
  RefillState,
  RefillStatus,
  Service,
  SmsCodeState,
  SmsCountry,
  SmsOrderState,
  SmsOrderStatus,
  SmsProject,
} from './types.ts';

export class ParseError extends Error {
  override name = 'ParseError';
}

type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, what: string): Json {
  if (!isRecord(value)) throw new ParseError(`${what}: expected an object`);
  return value;
}

function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ParseError(`${what}: expected an array`);
  return value;
}

export function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

function requiredText(value: unknown, what: string): string {
  const result = text(value);
  if (result === null) throw new ParseError(`${what}: expected a string`);
  return result;
}

/** A count, spelled as any number of the family (`1,500`, `"20"`, `3.0`); null unless whole. */
function int(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && DIGITS.test(value)) return safe(Number(value));
  const read = readDecimal(value);
  if (read === null || !/^-?\d+(\.0+)?$/.test(read)) return null;
  return safe(Number(read.split('.')[0]));
}

const DIGITS = /^\d+$/;
const safe = (whole: number) => (Number.isSafeInteger(whole) ? whole : null);

function requiredInt(value: unknown, what: string): number {
  const result = int(value);
  if (result === null) throw new ParseError(`${what}: expected an integer`);
  return result;
}

function bool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (['1', 'true', 'yes', 'y'].includes(lower)) return true;
    if (['0', 'false', 'no', 'n', ''].includes(lower)) return false;
  }
  return null;
}

function requiredDecimal(value: unknown, what: string): string {
  const result = readDecimal(value);
  if (result === null) throw new ParseError(`${what}: expected a decimal`);
  return result;
}

function entityType(value: unknown): EntityType | null {
  const lower = text(value)?.toLowerCase();
  if (lower === 'smm') return 'SMM';
  if (lower === 'product') return 'PRODUCT';
  return null;
}

/** A service's kind: SMM when the supplier does not say (the family's services are); an unknown word is no guess. */
function serviceKind(value: unknown, what: string): EntityType {
  if (value === undefined || value === null) return 'SMM';
  const kind = entityType(value);
  if (kind === null && text(value) === null) return 'SMM';
  if (kind === null) throw new ParseError(`${what}: unknown entity type ${JSON.stringify(String(value)).slice(0, 40)}`);
  return kind;
}

function money(amount: unknown, currency: unknown, fallbackCurrency: string): Money | null {
  const value = readDecimal(amount);
  return value === null ? null : { amount: value, currency: text(currency) ?? fallbackCurrency };
}

const squash = (status: string) =>
  status
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ')
    .trim();

/**
 * The family's order statuses. A refunded, failed, errored or rejected order has ended without
 * being delivered and its charge returned or never taken: CANCELED, with `rawStatus` saying which.
 * Awaiting and queued orders have not started: PENDING.
 */
const ORDER_STATUSES: Record<string, OrderStatus> = {
  pending: 'PENDING',
  awaiting: 'PENDING',
  queued: 'PENDING',
  'in queue': 'PENDING',
  'in progress': 'IN_PROGRESS',
  inprogress: 'IN_PROGRESS',
  active: 'IN_PROGRESS',
  processing: 'PROCESSING',
  completed: 'COMPLETED',
  complete: 'COMPLETED',
  success: 'COMPLETED',
  partial: 'PARTIAL',
  'partially completed': 'PARTIAL',
  canceled: 'CANCELED',
  cancelled: 'CANCELED',
  refunded: 'CANCELED',
  refund: 'CANCELED',
  fail: 'CANCELED',
  failed: 'CANCELED',
  error: 'CANCELED',
  rejected: 'CANCELED',
};

const SMS_STATUSES: Record<string, SmsOrderStatus> = {
  active: 'ACTIVE',
  waiting: 'WAITING',
  'code received': 'CODE_RECEIVED',
  received: 'CODE_RECEIVED',
  completed: 'COMPLETED',
  canceled: 'CANCELED',
  cancelled: 'CANCELED',
  expired: 'EXPIRED',
};

export const orderStatus = (raw: string): OrderStatus => ORDER_STATUSES[squash(raw)] ?? 'UNKNOWN';

/**
 * Refill statuses: the four the family documents, and the spellings of panels that say more. A
 * refill canceled, failed or refused has ended without refilling: REJECTED, `rawStatus` says which.
 */
const REFILL_STATUSES: Record<string, RefillStatus> = {
  pending: 'PENDING',
  awaiting: 'PENDING',
  queued: 'PENDING',
  'in progress': 'IN_PROGRESS',
  inprogress: 'IN_PROGRESS',
  processing: 'IN_PROGRESS',
  completed: 'COMPLETED',
  complete: 'COMPLETED',
  success: 'COMPLETED',
  rejected: 'REJECTED',
  refused: 'REJECTED',
  canceled: 'REJECTED',
  cancelled: 'REJECTED',
  fail: 'REJECTED',
  failed: 'REJECTED',
  error: 'REJECTED',
};

const refillStatus = (raw: string): RefillStatus => REFILL_STATUSES[squash(raw)] ?? 'UNKNOWN';

export const smsStatus = (raw: string): SmsOrderStatus => SMS_STATUSES[squash(raw)] ?? 'UNKNOWN';

/** Told of each entry of a list left out because it could not be read, with why (never the key). */
export type Skipped = (problem: string) => void;

/** A list that keeps the entries it can read: one odd service must not hide the catalogue, nor vanish unsaid. */
function readable<T>(items: unknown[], parse: (item: unknown) => T, skipped: Skipped): T[] {
  const result: T[] = [];
  for (const item of items) {
    try {
      result.push(parse(item));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      skipped(error.message);
    }
  }
  return result;
}

const ignore: Skipped = () => {};

export function parseCategories(body: unknown, skipped: Skipped = ignore): Category[] {
  const list = array(record(body, 'categories').categories, 'categories');
  return readable(
    list,
    (item) => {
      const entry = record(item, 'category');
      const subcategories = Array.isArray(entry.subcategories) ? entry.subcategories : [];
      return {
        name: requiredText(entry.category ?? entry.name, 'category name'),
        subcategories: subcategories.map(text).filter((name): name is string => name !== null),
      };
    },
    skipped,
  );
}

export function parseService(item: unknown): Service {
  const entry = record(item, 'service');
  const id = requiredText(entry.service ?? entry.id, 'service id');
  return {
    id,
    name: requiredText(entry.name, `service ${id} name`),
    type: text(entry.type) ?? 'Default',
    category: text(entry.category) ?? '',
    subcategory: text(entry.subcategory ?? entry.sub_category),
    rate: requiredDecimal(entry.rate, `service ${id} rate`),
    min: requiredInt(entry.min, `service ${id} min`),
    max: requiredInt(entry.max, `service ${id} max`),
    refill: bool(entry.refill) ?? false,
    cancel: bool(entry.cancel) ?? false,
    stock: int(entry.stock),
    entityType: serviceKind(entry.entityType ?? entry.entity_type, `service ${id} entityType`),
    autoDelivery: bool(entry.autoDelivery ?? entry.auto_delivery),
    dripfeed: bool(entry.dripfeed) ?? false,
  };
}

export function parseServices(body: unknown, skipped: Skipped = ignore): Service[] {
  const list = Array.isArray(body) ? body : array(record(body, 'services').services, 'services');
  return readable(list, parseService, skipped);
}

export function parseInventory(body: unknown, serviceId: string): Inventory {
  const entry = record(body, 'inventory');
  const stock = int(entry.stock) ?? 0;
  return {
    serviceId: text(entry.service) ?? serviceId,
    stock,
    available: bool(entry.available) ?? stock > 0,
    entityType: entityType(entry.entityType ?? entry.entity_type) ?? 'SMM',
    autoDelivery: bool(entry.autoDelivery ?? entry.auto_delivery) ?? true,
  };
}

export function parseOrderId(body: unknown): string {
  return requiredText(record(body, 'add').order, 'order id');
}

export function parseOrderState(body: unknown, id: string): OrderState {
  const entry = record(body, 'status');
  const rawStatus = requiredText(entry.status, 'order status');
  const accounts = Array.isArray(entry.accounts) ? entry.accounts : [];
  return {
    id,
    status: orderStatus(rawStatus),
    rawStatus,
    charge: money(entry.charge, entry.currency, 'USD'),
    startCount: int(entry.start_count ?? entry.startCount),
    remains: int(entry.remains),
    autoDelivery: bool(entry.autoDelivery ?? entry.auto_delivery),
    entityType: entityType(entry.entityType ?? entry.entity_type),
    accounts: accounts.map(text).filter((account): account is string => account !== null),
  };
}

/** A supplier that read `order`, not `orders`: it answers one status per call (see HstockClient.orderStatuses). */
export class SingleStatusOnly extends Error {
  override name = 'SingleStatusOnly';
}

/**
 * `status` with `orders=`: an object keyed by id, each a status or its own `{"error": …}`. An id
 * the answer leaves out is not found. One entry that cannot be read fails that entry only.
 */
export function parseOrderStates(
  body: unknown,
  ids: readonly string[],
  skipped: Skipped = ignore,
): Map<string, OrderState | ParseError | string> {
  const entries = record(body, 'status');
  if (typeof entries.status === 'string') throw new SingleStatusOnly('a single-order answer to orders=');
  const states = new Map<string, OrderState | ParseError | string>();
  for (const id of ids) {
    const entry = entries[id];
    if (isRecord(entry) && typeof entry.error === 'string') {
      states.set(id, entry.error);
      continue;
    }
    try {
      states.set(id, entry === undefined ? 'Incorrect order ID' : parseOrderState(entry, id));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      skipped(`order ${id}: ${error.message}`);
      states.set(id, error);
    }
  }
  return states;
}

export function parseBalance(body: unknown): Balance {
  const entry = record(body, 'balance');
  return { amount: requiredDecimal(entry.balance, 'balance'), currency: text(entry.currency) ?? 'USD' };
}

export function parseSmsCountries(body: unknown, skipped: Skipped = ignore): SmsCountry[] {
  const list = Array.isArray(body) ? body : array(record(body, 'sms_countries').countries, 'sms_countries');
  return readable(
    list,
    (item) => {
      const entry = record(item, 'country');
      const code = requiredText(entry.country_code ?? entry.code, 'country code').toLowerCase();
      return { code, name: text(entry.country_name ?? entry.name) ?? code.toUpperCase() };
    },
    skipped,
  );
}

export function parseSmsProjects(body: unknown, skipped: Skipped = ignore): SmsProject[] {
  const list = Array.isArray(body) ? body : array(record(body, 'sms_projects').projects, 'sms_projects');
  return readable(
    list,
    (item) => {
      const entry = record(item, 'project');
      const id = requiredText(entry.project_id ?? entry.id, 'project id');
      return {
        id,
        name: requiredText(entry.name, `project ${id} name`),
        price: requiredDecimal(entry.price, `project ${id} price`),
        countryCode: requiredText(entry.country_id ?? entry.country, `project ${id} country`).toLowerCase(),
        countryName: text(entry.country_title ?? entry.country_name),
      };
    },
    skipped,
  );
}

export function parseSmsOrdersPlaced(body: unknown, price: Money | null): SmsOrderState[] {
  const list = array(record(body, 'add_sms').orders, 'add_sms orders');
  return list.map((item) => {
    const entry = record(item, 'sms order');
    const rawStatus = text(entry.status) ?? 'active';
    return {
      id: requiredText(entry.order ?? entry.id, 'sms order id'),
      phone: text(entry.phone),
      country: text(entry.country)?.toLowerCase() ?? null,
      status: smsStatus(rawStatus),
      rawStatus,
      code: null,
      smsContent: null,
      charge: price,
      expiresAt: isoDate(entry.expires_at),
    };
  });
}

function isoDate(value: unknown): string | null {
  const raw = text(value);
  if (raw === null) return null;
  const date = new Date(/^\d+$/.test(raw) ? Number(raw) * 1000 : raw);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

export function parseSmsStatus(body: unknown, id: string): SmsOrderState {
  const entry = record(body, 'sms_status');
  const rawStatus = requiredText(entry.status, 'sms status');
  return {
    id,
    phone: text(entry.phone),
    country: text(entry.country)?.toLowerCase() ?? null,
    status: smsStatus(rawStatus),
    rawStatus,
    code: text(entry.code),
    smsContent: text(entry.sms_content ?? entry.smsContent),
    charge: money(entry.charge, entry.currency, 'USD'),
    expiresAt: isoDate(entry.expires_at ?? entry.expiresAt),
  };
}

export function parseSmsCode(body: unknown, id: string): SmsCodeState {
  const entry = record(body, 'sms_code');
  const rawStatus = requiredText(entry.status, 'sms code status');
  return {
    id,
    status: smsStatus(rawStatus),
    rawStatus,
    code: text(entry.code),
    smsContent: text(entry.sms_content ?? entry.smsContent),
  };
}

/** `refill` with `order=`: `{"refill": "ID"}`, the id as a string or a number. */
export function parseRefillId(body: unknown): string {
  return requiredText(record(body, 'refill').refill, 'refill id');
}

export function parseRefillState(body: unknown, id: string): RefillState {
  const rawStatus = requiredText(record(body, 'refill_status').status, 'refill status');
  return { id, status: refillStatus(rawStatus), rawStatus };
}

/** One item's outcome in an answer about many: its value, its own error text, or what could not be read. */
export type Each<T> = T | ParseError | string;

/**
 * A list of `{"<idField>": id, "<valueField>": value}` answering many ids at once, each value
 * possibly its own `{"error": …}`: one entry per id asked for, an id missing from the answer read
 * as `missing`.
 */
function listById<T>(
  body: unknown,
  action: string,
  ids: readonly string[],
  fields: { id: string; value: string; missing: string },
  read: (value: unknown, id: string) => T,
  skipped: Skipped,
): Map<string, Each<T>> {
  const answered = new Map<string, unknown>();
  for (const item of array(body, action)) {
    const id = isRecord(item) ? text(item[fields.id]) : null;
    if (id === null) {
      skipped(`${action}: an entry without ${fields.id}`);
      continue;
    }
    answered.set(id, (item as Json)[fields.value]);
  }
  const each = new Map<string, Each<T>>();
  for (const id of ids) {
    const value = answered.get(id);
    if (isRecord(value) && typeof value.error === 'string') {
      each.set(id, value.error);
      continue;
    }
    try {
      each.set(id, answered.has(id) ? read(value, id) : fields.missing);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      skipped(`${action} ${id}: ${error.message}`);
      each.set(id, error);
    }
  }
  return each;
}

/**
 * `refill_status` with `refills=`: `[{"refill": 1, "status": "Completed"}, {"refill": 3, "status":
 * {"error": "Refill not found"}}]`. A panel that read `refill`, not `refills`, answers one
 * refill's shape: SingleStatusOnly.
 */
export function parseRefillStates(body: unknown, ids: readonly string[], skipped: Skipped = ignore): Map<string, Each<RefillState>> {
  if (isRecord(body) && body.status !== undefined) throw new SingleStatusOnly('a single-refill answer to refills=');
  const status = (value: unknown, id: string) => parseRefillState({ status: value }, id);
  return listById(body, 'refill_status', ids, { id: 'refill', value: 'status', missing: 'Refill not found' }, status, skipped);
}

/** `cancel` with `orders=`: `[{"order": 2, "cancel": 1}, {"order": 9, "cancel": {"error": "Incorrect order ID"}}]`. */
export function parseCancels(body: unknown, ids: readonly string[], skipped: Skipped = ignore): Map<string, Each<true>> {
  const asked = (value: unknown): true => {
    if (value === 1 || value === '1' || value === true) return true;
    throw new ParseError(`cancel: expected 1 or an error, got ${JSON.stringify(value)?.slice(0, 40)}`);
  };
  return listById(body, 'cancel', ids, { id: 'order', value: 'cancel', missing: 'Incorrect order ID' }, asked, skipped);
}
