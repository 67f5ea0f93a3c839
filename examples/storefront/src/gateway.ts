/** A gateway token (server-key mode) or supplier key (pass-through); `npm start` on the sandbox needs none. */
const token: string | undefined = import.meta.env.VITE_GATEWAY_TOKEN;
export const authorization = token ? `Bearer ${token}` : undefined;

/**
 * The gateway: VITE_GATEWAY_URL at build time, else a local `npm start`. Without a token, `?gateway=`
 * on the page may name another (the tests use it); with one, never: a link could send it anywhere.
 */
export const gatewayUrl: string =
  (token ? null : new URLSearchParams(location.search).get('gateway')) ?? import.meta.env.VITE_GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql';

/** The headers that carry it over HTTP: none, or Authorization. */
export const headers: Record<string, string> = authorization ? { authorization } : {};
