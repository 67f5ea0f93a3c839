/**
 * Where the gateway and the identity provider it trusts are: VITE_GATEWAY_URL and VITE_ISSUER at
 * build time, else a local `npm start`. A build that names neither also takes `?gateway=` and
 * `?issuer=` from the page's address (the tests use them), kept for this tab across the trip to the
 * sign-in page; a build that names either never does: a link could send a customer's token anywhere.
 */
const named = Boolean(import.meta.env.VITE_GATEWAY_URL || import.meta.env.VITE_ISSUER);

function fromPage(name: 'gateway' | 'issuer'): string | null {
  if (named) return null;
  const given = new URLSearchParams(location.search).get(name);
  if (given) sessionStorage.setItem(`storefront.${name}`, given);
  return given ?? sessionStorage.getItem(`storefront.${name}`);
}

export const gatewayUrl: string = fromPage('gateway') ?? import.meta.env.VITE_GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';

/** The OpenID Connect issuer the gateway trusts (its JWT_ISSUER); discovery finds the rest. */
export const issuer = new URL(fromPage('issuer') ?? import.meta.env.VITE_ISSUER ?? 'http://127.0.0.1:4011');

/** The storefront's public client at the provider: no secret, PKCE instead. */
export const clientId: string = import.meta.env.VITE_CLIENT_ID ?? 'storefront';

/** The resource indicator (RFC 8707) that names the gateway, so tokens are for it; empty sends none. */
export const resource: string = import.meta.env.VITE_RESOURCE ?? 'urn:hstock-gateway';
