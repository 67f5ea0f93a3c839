/**
 * Customers sign in at the identity provider: OpenID Connect's authorization code flow with PKCE
 * (S256), by oauth4webapi. The page is a public client: it holds no secret, and no token is built
 * into it. The code verifier and state wait in sessionStorage while the browser is away; the
 * session (the access token, when it expires, the customer's name) is kept there too, for this tab
 * only: a reload keeps it, closing the tab ends it, another tab never sees it.
 */
import * as oauth from 'oauth4webapi';
import { clientId, issuer, resource } from './gateway';

export interface Session {
  accessToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  name: string;
}

/** What a customer of the shop may be granted; `account:read` (the balance, wholesale rates) is staff's. */
const SCOPES = 'openid profile catalogue:read orders:read orders:place sms:rent';
const PENDING = 'storefront.sign-in';
const SESSION = 'storefront.session';

const client: oauth.Client = { client_id: clientId };
// oauth4webapi speaks only HTTPS unless told otherwise: plain HTTP for a provider on this machine (the sandbox's).
const local = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
const options = { [oauth.allowInsecureRequests]: issuer.protocol === 'http:' && local };

/** Where the provider sends the browser back: this page, without its query. */
const redirectUri = () => `${location.origin}${location.pathname}`;

async function discover(): Promise<oauth.AuthorizationServer> {
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, options));
}

/** Leaves for the provider's sign-in page; it comes back to this page with a code. */
export async function signIn(): Promise<void> {
  const server = await discover();
  if (!server.authorization_endpoint) throw new Error(`${issuer.href} names no authorization endpoint.`);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(server.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri(),
    response_type: 'code',
    scope: SCOPES,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    // The page cannot end the provider's own session, so a customer who signed out (or another
    // on the same computer) is asked for a password, never signed in as the one before.
    prompt: 'login',
    ...(resource ? { resource } : {}),
  }).toString();
  location.assign(url);
}

/**
 * Back from the provider: the code exchanged for tokens, the session kept, and the code taken out of
 * the address bar. Undefined when this page load is no such return; rejects when the sign-in failed.
 */
export async function finishSignIn(): Promise<Session | undefined> {
  const pending = sessionStorage.getItem(PENDING);
  const returned = new URL(location.href);
  if (!pending || !(returned.searchParams.has('code') || returned.searchParams.has('error'))) return undefined;
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', redirectUri());
  const { verifier, state } = JSON.parse(pending) as { verifier: string; state: string };
  const server = await discover();
  const params = oauth.validateAuthResponse(server, client, returned, state);
  const response = await oauth.authorizationCodeGrantRequest(server, client, oauth.None(), params, redirectUri(), verifier, options);
  const tokens = await oauth.processAuthorizationCodeResponse(server, client, response, { requireIdToken: true });
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  // A refresh token, if the provider sent one, is left unused: it would outlive the tab's session.
  const session: Session = {
    accessToken: tokens.access_token,
    // Without a lifetime, only the gateway can tell when the token ends (TOKEN_EXPIRED, 4403).
    expiresAt: tokens.expires_in === undefined ? Number.MAX_SAFE_INTEGER : Date.now() + tokens.expires_in * 1000,
    name: typeof claims.name === 'string' ? claims.name : claims.sub,
  };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  return session;
}

/** The session of this tab, while its token lasts. */
export function currentSession(): Session | undefined {
  const stored = sessionStorage.getItem(SESSION);
  const session = stored ? (JSON.parse(stored) as Session) : undefined;
  return session && session.expiresAt > Date.now() ? session : undefined;
}

export function signOut(): void {
  sessionStorage.removeItem(SESSION);
}

/** What the customer should read when a sign-in failed: the provider's words when it refused. */
export function signInFailure(error: unknown): string {
  if (error instanceof oauth.AuthorizationResponseError) return error.error_description ?? error.error;
  return error instanceof Error ? error.message : String(error);
}

/** The gateway's answer to an expired token: over HTTP this error, over WebSocket close code 4403. */
export const tokenExpired = (errors: ReadonlyArray<{ extensions?: Record<string, unknown> }>) =>
  errors.some(({ extensions }) => extensions?.code === 'UNAUTHENTICATED' && extensions.reason === 'TOKEN_EXPIRED');

/** graphql-ws's Forbidden: the gateway closes a socket with it when its token expires (or was refused). */
export const closedForbidden = (event: unknown) => event instanceof CloseEvent && event.code === 4403;
