import { badInput } from '../datasources/errors.ts';

const SUPPLIER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Ids go to the supplier as form fields: reject what no supplier id can look like, before any call. */
export function supplierId(value: string | number, field: string): string {
  const id = String(value).trim();
  if (!SUPPLIER_ID.test(id)) throw badInput(`${field} must be a supplier id (letters, digits, - or _), got ${JSON.stringify(String(value))}.`, { field });
  return id;
}

export function idList(values: ReadonlyArray<string | number>, field: string, max = 100): string[] {
  if (values.length === 0) throw badInput(`${field} must name at least one id.`, { field });
  if (values.length > max) throw badInput(`${field} accepts at most ${max} ids, got ${values.length}.`, { field });
  return values.map((value) => supplierId(value, field));
}

export function optionalText(value: string | null | undefined, field: string, maxLength = 2048): string | undefined {
  const trimmed = value?.trim();
  if (trimmed === undefined || trimmed === '') return undefined;
  if (trimmed.length > maxLength) throw badInput(`${field} is longer than ${maxLength} characters.`, { field });
  return trimmed;
}
