import type { Account } from './accounts.ts';
import { ERRORS, SupplierError } from './errors.ts';

/** A request's fields, from the query string and the body together. */
export type Fields = ReadonlyMap<string, string>;

/** A field as panels read it: surrounding blanks ignored, an empty value the same as none. */
export function text(fields: Fields, name: string): string | undefined {
  const value = fields.get(name)?.trim();
  return value ? value : undefined;
}

export function wholeNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : undefined;
}

/** The order named by `order`, if this key placed it; another key's order does not exist for it. */
export function ownOrder<T extends { account: Account }>(orders: Map<number, T>, account: Account, fields: Fields): T {
  const raw = text(fields, 'order');
  if (raw === undefined) throw new SupplierError(ERRORS.orderRequired);
  const id = wholeNumber(raw);
  if (id === undefined) throw new SupplierError(ERRORS.incorrectOrderId);
  const order = orders.get(id);
  if (!order || order.account !== account) throw new SupplierError(ERRORS.orderNotFound);
  return order;
}
