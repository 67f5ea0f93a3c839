/**
 * What a caller may do. Signed-in customers have the scopes their token grants; supplier keys and
 * gateway tokens have every one; a visitor without credentials, where PUBLIC_CATALOGUE is on, may
 * read the catalogue. The schema names the scope of each root field, and of each field that shows
 * the supplier's wholesale figures (schema/builder.ts applies them).
 */
import { GatewayError } from '../errors.ts';
import type { Identity } from './authenticator.ts';

export const SCOPES = {
  'catalogue:read': 'read the catalogue: categories, services, SMS countries and projects',
  'orders:read': 'read and watch its own orders, SMS orders and refills',
  'orders:place': 'place orders, ask for refills and cancels',
  'sms:rent': 'rent SMS numbers',
  'account:read': 'see the supplier balance and wholesale figures (rates, charges, prices)',
} as const;

export type Scope = keyof typeof SCOPES;

/** The scopes a caller has, in the contract's order; every one for callers without a scope list. */
export function scopesOf(identity: Extract<Identity, { ok: true }>): Scope[] {
  return (Object.keys(SCOPES) as Scope[]).filter((scope) => identity.scopes?.has(scope) ?? true);
}

/** Whether the caller may see the balance and wholesale figures, which errors must not give away either. */
export const seesFigures = (identity: Identity) => identity.ok && (identity.scopes?.has('account:read') ?? true);

/** A caller without the scope a field needs: refused by name, with no supplier call. */
export const forbidden = (scope: string) =>
  new GatewayError('FORBIDDEN', `This needs the ${scope} scope, which the caller's token does not grant.`, { extensions: { scope } });

/** Who has no identity at all is not forbidden but unauthenticated: the same error the supplier view raises. */
export function unauthenticated(identity: Extract<Identity, { ok: false }>): GatewayError {
  return new GatewayError('UNAUTHENTICATED', identity.reason, identity.refusal ? { extensions: { reason: identity.refusal } } : {});
}
