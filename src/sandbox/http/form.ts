import type { IncomingMessage } from 'node:http';
import { ERRORS, SupplierError } from '../errors.ts';
import type { Account } from '../world/accounts.ts';

/** An answer on the wire: JSON, whose `undefined` fields are left out. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };

/** A request's fields, from the query string and the body together. */
export type Fields = ReadonlyMap<string, string>;

const MAX_BODY_BYTES = 64 * 1024;

export class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

/** Reads the whole body; past the limit it drains the rest unread, so the client still gets its 413. */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

/**
 * The supplier documents form fields only; lenient panels also read the query string, JSON and
 * multipart bodies, so the sandbox does too. Body fields win over query fields, the last of a
 * repeated field wins (as PHP reads them), and a body that cannot be read counts as no fields.
 */
export async function requestFields(url: URL, contentType: string | undefined, body: Buffer): Promise<Fields> {
  const fields = new Map(url.searchParams);
  for (const [name, value] of await bodyFields(contentType, body)) fields.set(name, value);
  return fields;
}

async function bodyFields(contentType: string | undefined, body: Buffer): Promise<Iterable<[string, string]>> {
  if (body.length === 0) return [];
  const mime = contentType?.split(';')[0]?.trim().toLowerCase();
  const text = body.toString('utf8');
  if (mime === 'application/json' || (!mime && text.trimStart().startsWith('{'))) return jsonFields(text);
  if (mime === 'multipart/form-data' && contentType) return multipartFields(contentType, body);
  return new URLSearchParams(text);
}

function jsonFields(text: string): [string, string][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [];
  return Object.entries(parsed).flatMap(([name, value]): [string, string][] =>
    ['string', 'number', 'boolean'].includes(typeof value) ? [[name, String(value)]] : [],
  );
}

async function multipartFields(contentType: string, body: Buffer): Promise<[string, string][]> {
  try {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
    return [...form].flatMap(([name, value]): [string, string][] => (typeof value === 'string' ? [[name, value]] : []));
  } catch {
    return [];
  }
}

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

const MAX_IDS = 100;

/**
 * The ids of a batch field (`orders=1,2,3`), in order, each once, as written: an id that is not a
 * whole number is still answered, with its own error. Undefined when the field is absent or empty.
 */
export function idList(fields: Fields, name: string): string[] | undefined {
  const raw = text(fields, name);
  if (raw === undefined) return undefined;
  const ids = [...new Set(raw.split(',').map((id) => id.trim()))].filter((id) => id !== '');
  if (ids.length > MAX_IDS) throw new SupplierError(ERRORS.tooManyIds(MAX_IDS));
  return ids.length > 0 ? ids : undefined;
}

/** How a batch answer names an id: a number when it is one, else the text as sent. */
export function idValue(id: string): number | string {
  return wholeNumber(id) ?? id;
}
