import { SUBJECT } from '../auth/jwt.ts';
import { badInput, GatewayError } from '../errors.ts';
import type { Context } from '../graphql/context.ts';

const SUPPLIER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** What an error message shows of a caller's input: enough to recognise it, never all of it. */
const echo = (value: string) => JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}…` : value);

/** Ids go to the supplier as form fields: reject what no supplier id can look like, before any call. */
export function supplierId(value: string | number, field: string): string {
  const id = String(value).trim();
  if (!SUPPLIER_ID.test(id))
    throw badInput(`${field} must be a supplier id (letters, digits, - or _), got ${echo(String(value))}.`, { field });
  return id;
}

const ORDER_ID = /^\d{1,20}$/;

/** Order and SMS order ids of the family are whole numbers: anything else is refused before any call. */
export function orderId(value: string | number, field: string): string {
  const id = String(value).trim();
  if (!ORDER_ID.test(id)) throw badInput(`${field} must be an order id (digits), got ${echo(String(value))}.`, { field });
  return id;
}

export function orderIdList(values: ReadonlyArray<string | number>, field: string, max = 100): string[] {
  if (values.length === 0) throw badInput(`${field} must name at least one id.`, { field });
  if (values.length > max) throw badInput(`${field} accepts at most ${max} ids, got ${values.length}.`, { field });
  return values.map((value) => orderId(value, field));
}

/** Longest free text the gateway passes on: a link or delivery reference. */
const MAX_TEXT = 2048;
/** Longest catalogue name (category, subcategory) the gateway looks up. */
export const MAX_NAME = 128;

export function optionalText(value: string | null | undefined, field: string, maxLength = MAX_TEXT): string | undefined {
  const trimmed = value?.trim();
  if (trimmed === undefined || trimmed === '') return undefined;
  if (trimmed.length > maxLength) throw badInput(`${field} is longer than ${maxLength} characters.`, { field });
  return trimmed;
}

/** A placement for a customer: only a backend's gateway token may ask for one, naming a subject. */
export function onBehalfOf(ctx: Pick<Context, 'identity'>, value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (!ctx.identity.ok || !ctx.identity.backend) {
    throw new GatewayError('FORBIDDEN', 'Only a backend (a GATEWAY_TOKENS caller) may place on behalf of a customer.', {
      extensions: { field: 'onBehalfOf' },
    });
  }
  const subject = value.trim();
  if (!SUBJECT.test(subject))
    throw badInput(`onBehalfOf must be a subject of the identity provider, got ${echo(value)}.`, { field: 'onBehalfOf' });
  return subject;
}
