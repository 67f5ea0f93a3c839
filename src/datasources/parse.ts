/**
 * Tolerant parsing of the supplier's JSON into normalised types. Panels of this family send
 * numbers as strings, booleans as 0/1 or "true", decimals as strings or numbers and statuses in
 * any case; this file is the only place that knows.
 */
import type {
  Balance,
  Category,
  EntityType,
  Inventory,
  Money,
  OrderState,
  OrderStatus,
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

export function int(value: unknown): number | null {
  const raw = typeof value === 'string' && value.trim() !== '' ? Number(value.trim()) : value;
  return typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : null;
}

function requiredInt(value: unknown, what: string): number {
  const result = int(value);
  if (result === null) throw new ParseError(`${what}: expected an integer`);
  return result;
}

export function bool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (['1', 'true', 'yes', 'y'].includes(lower)) return true;
    if (['0', 'false', 'no', 'n', ''].includes(lower)) return false;
  }
  return null;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** Decimals stay strings; a JSON number is taken by its shortest round-trip text. */
export function decimal(value: unknown): string | null {
  const raw = typeof value === 'number' && Number.isFinite(value) ? String(value) : text(value);
  if (raw === null || !DECIMAL.test(raw)) return null;
  return raw;
}

function requiredDecimal(value: unknown, what: string): string {
  const result = decimal(value);
  if (result === null) throw new ParseError(`${what}: expected a decimal`);
  return result;
}

function entityType(value: unknown): EntityType | null {
  const lower = text(value)?.toLowerCase();
  if (lower === 'smm') return 'SMM';
  if (lower === 'product') return 'PRODUCT';
  return null;
}

function money(amount: unknown, currency: unknown, fallbackCurrency: string): Money | null {
  const value = decimal(amount);
  return value === null ? null : { amount: value, currency: text(currency) ?? fallbackCurrency };
}

const squash = (status: string) => status.toLowerCase().replace(/[\s_-]+/g, ' ').trim();

const ORDER_STATUSES: Record<string, OrderStatus> = {
  pending: 'PENDING',
  'in progress': 'IN_PROGRESS',
  inprogress: 'IN_PROGRESS',
  processing: 'PROCESSING',
  completed: 'COMPLETED',
  complete: 'COMPLETED',
  partial: 'PARTIAL',
  canceled: 'CANCELED',
  cancelled: 'CANCELED',
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

export const smsStatus = (raw: string): SmsOrderStatus => SMS_STATUSES[squash(raw)] ?? 'UNKNOWN';

/** A list that keeps the entries it can read: one odd service must not hide the catalogue. */
function readable<T>(items: unknown[], parse: (item: unknown) => T): T[] {
  const result: T[] = [];
  for (const item of items) {
    try {
      result.push(parse(item));
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
    }
  }
  return result;
}

export function parseCategories(body: unknown): Category[] {
  const list = array(record(body, 'categories').categories, 'categories');
  return readable(list, (item) => {
    const entry = record(item, 'category');
    const subcategories = Array.isArray(entry.subcategories) ? entry.subcategories : [];
    return {
      name: requiredText(entry.category ?? entry.name, 'category name'),
      subcategories: subcategories.map(text).filter((name): name is string => name !== null),
    };
  });
}

export function parseService(item: unknown): Service {
  const entry = record(item, 'service');
  const id = requiredText(entry.service ?? entry.id, 'service id');
  return {
    id,
    name: requiredText(entry.name, `service ${id} name`),
    type: text(entry.type) ?? 'Default',
    category: text(entry.category) ?? '',
    rate: requiredDecimal(entry.rate, `service ${id} rate`),
    min: requiredInt(entry.min, `service ${id} min`),
    max: requiredInt(entry.max, `service ${id} max`),
    refill: bool(entry.refill) ?? false,
    cancel: bool(entry.cancel) ?? false,
    stock: int(entry.stock) ?? 0,
    entityType: entityType(entry.entityType ?? entry.entity_type) ?? 'SMM',
    autoDelivery: bool(entry.autoDelivery ?? entry.auto_delivery) ?? true,
  };
}

export function parseServices(body: unknown): Service[] {
  const list = Array.isArray(body) ? body : array(record(body, 'services').services, 'services');
  return readable(list, parseService);
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

export function parseBalance(body: unknown): Balance {
  const entry = record(body, 'balance');
  return { amount: requiredDecimal(entry.balance, 'balance'), currency: text(entry.currency) ?? 'USD' };
}

export function parseSmsCountries(body: unknown): SmsCountry[] {
  const list = Array.isArray(body) ? body : array(record(body, 'sms_countries').countries, 'sms_countries');
  return readable(list, (item) => {
    const entry = record(item, 'country');
    const code = requiredText(entry.country_code ?? entry.code, 'country code').toLowerCase();
    return { code, name: text(entry.country_name ?? entry.name) ?? code.toUpperCase() };
  });
}

export function parseSmsProjects(body: unknown): SmsProject[] {
  const list = Array.isArray(body) ? body : array(record(body, 'sms_projects').projects, 'sms_projects');
  return readable(list, (item) => {
    const entry = record(item, 'project');
    const id = requiredText(entry.project_id ?? entry.id, 'project id');
    return {
      id,
      name: requiredText(entry.name, `project ${id} name`),
      price: requiredDecimal(entry.price, `project ${id} price`),
      countryCode: requiredText(entry.country_id ?? entry.country, `project ${id} country`).toLowerCase(),
      countryName: text(entry.country_title ?? entry.country_name),
    };
  });
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
