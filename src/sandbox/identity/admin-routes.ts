/** The /__identity routes, for `npm run sandbox` users and the docs: the keys and the demo customers. */
import { ERRORS } from '../errors.ts';
import type { Json } from '../http/form.ts';
import type { DemoCustomer } from './customers.ts';
import { KeyError } from './keys.ts';

export const IDENTITY_ADMIN_PREFIX = '/__identity';

export interface KeyControls {
  readonly kids: string[];
  rotateKeys(): Promise<string>;
  retireKey(kid: string): Promise<void>;
}

export interface AdminAnswer {
  status: number;
  body: Json;
}

export async function answerIdentityAdmin(
  keys: KeyControls,
  customers: readonly DemoCustomer[],
  method: string,
  path: string,
): Promise<AdminAnswer> {
  const subpath = path.slice(IDENTITY_ADMIN_PREFIX.length).replace(/\/$/, '');
  if (subpath === '/keys' && method === 'GET') return { status: 200, body: { kids: keys.kids } };
  if (subpath === '/keys' && method === 'POST') return { status: 200, body: { kid: await keys.rotateKeys() } };
  if (subpath.startsWith('/keys/') && method === 'DELETE') {
    try {
      await keys.retireKey(decodeURIComponent(subpath.slice('/keys/'.length)));
      return { status: 200, body: { kids: keys.kids } };
    } catch (error) {
      if (error instanceof KeyError) return { status: error.status, body: { error: error.message } };
      throw error;
    }
  }
  if (subpath === '/customers' && method === 'GET') {
    const listed = customers.map(({ subject, login, name, spendLimit, scopes }) => ({
      subject,
      login,
      name,
      spendLimit,
      scopes: [...scopes],
    }));
    return { status: 200, body: { customers: listed } };
  }
  const known = subpath === '/keys' || subpath === '/customers' || subpath.startsWith('/keys/');
  return known ? { status: 405, body: { error: ERRORS.methodNotAllowed } } : { status: 404, body: { error: ERRORS.notFound } };
}
