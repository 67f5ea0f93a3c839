/**
 * The sandbox's OpenID Connect identity provider: oidc-provider (a certified implementation) on its
 * own port, with demo customers, so that the gateway can be tried with real customer tokens without
 * an account anywhere. Access tokens are JWTs for the gateway, verified through discovery and JWKS.
 */
// First: oidc-provider's notice about Node.js 20 is left out while it loads.
import './node-notice.ts';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../http/listen.ts';
import { answerIdentityAdmin, IDENTITY_ADMIN_PREFIX } from './admin-routes.ts';
import { runCodeFlow, type Tokens } from './code-flow.ts';
import { CUSTOMER_SCOPES, customerWithLogin, DEMO_CUSTOMERS, type DemoCustomer } from './customers.ts';
import { answerInteraction, INTERACTION_PREFIX } from './interactions.ts';
import { KeyRing, type SigningAlgorithm } from './keys.ts';
import { memoryAdapter } from './memory-adapter.ts';
import { buildProvider, STOREFRONT_CLIENT_ID, type ProviderSettings } from './provider.ts';

export { KeyError } from './keys.ts';

export interface IdentityProviderOptions {
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The audience (resource indicator) of access tokens: the gateway's URL or a name. Default 'hstock-gateway'. */
  audience?: string;
  /** Access token lifetime in seconds, default 900. */
  accessTokenTtlS?: number;
  /** Redirect URIs the storefront client may use; default the storefront's dev server and the gateway's /storefront/. */
  redirectUris?: string[];
  /** Origins whose browsers may call the token endpoint and userinfo; default any localhost origin. */
  corsOrigins?: string[];
  /** The algorithm of the signing keys, default RS256. */
  algorithm?: SigningAlgorithm;
}

export interface IdentityProvider {
  /** e.g. http://127.0.0.1:43210; discovery at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** The `aud` of access tokens. */
  audience: string;
  /** The resource indicator a client may send for the gateway: the audience, or `urn:` and the audience when that is a name. */
  resource: string;
  /** The storefront's public client id. */
  clientId: string;
  customers: readonly DemoCustomer[];
  /** Signs with a new key (new kid) from now on; the old keys stay in the key set. Answers the new kid. */
  rotateKeys(): Promise<string>;
  /** Removes a key from the key set; tokens it signed fail once verifiers refresh. Rejects with KeyError for an unknown or last key. */
  retireKey(kid: string): Promise<void>;
  /** The kids of the key set, newest (the signing one) first. */
  readonly kids: string[];
  /**
   * A real access token for a customer, through the provider's own authorization code flow with
   * PKCE. Scopes default to `openid profile` and every gateway scope the customer may have; the
   * password to the customer's own.
   */
  tokenFor(login: string, options?: { scopes?: string[]; password?: string }): Promise<Tokens>;
  close(): Promise<void>;
}

const DEFAULT_AUDIENCE = 'hstock-gateway';
const DEFAULT_REDIRECT_URIS = ['http://127.0.0.1:5173/', 'http://localhost:5173/', 'http://127.0.0.1:4000/storefront/'];
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export async function createIdentityProvider(options: IdentityProviderOptions = {}): Promise<IdentityProvider> {
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const redirectUris = options.redirectUris ?? DEFAULT_REDIRECT_URIS;
  const keys = new KeyRing(options.algorithm ?? 'RS256');
  await keys.rotate();
  const server = createServer();
  const issuer = await listenOn(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const settings: ProviderSettings = {
    issuer,
    audience,
    resource: URL.canParse(audience) ? audience : `urn:${audience}`,
    accessTokenTtlS: options.accessTokenTtlS ?? 900,
    redirectUris,
    corsAllowed: options.corsOrigins
      ? (origin) => options.corsOrigins!.includes(origin)
      : (origin) => URL.canParse(origin) && LOCAL_HOSTS.has(new URL(origin).hostname),
    keys,
    adapter: memoryAdapter(),
    cookieKeys: [randomBytes(32).toString('base64url')],
  };
  let provider = buildProvider(settings);
  let handle = provider.callback();
  const rebuild = () => {
    provider = buildProvider(settings);
    handle = provider.callback();
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    answer(request, response).catch((error: unknown) => {
      console.error('identity provider failed to answer', error);
      if (response.headersSent) response.destroy();
      else response.writeHead(500).end();
    });
  });

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', issuer).pathname;
    if (path === IDENTITY_ADMIN_PREFIX || path.startsWith(`${IDENTITY_ADMIN_PREFIX}/`)) {
      const { status, body } = await answerIdentityAdmin(identity, DEMO_CUSTOMERS, request.method ?? 'GET', path);
      const text = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      response.end(text);
    } else if (path.startsWith(INTERACTION_PREFIX)) {
      await answerInteraction(provider, request, response, path);
    } else {
      handle(request, response);
    }
  }

  let closing: Promise<void> | undefined;
  const identity: IdentityProvider = {
    issuer,
    audience,
    resource: settings.resource,
    clientId: STOREFRONT_CLIENT_ID,
    customers: DEMO_CUSTOMERS,
    get kids() {
      return keys.kids;
    },
    async rotateKeys() {
      const kid = await keys.rotate();
      rebuild();
      return kid;
    },
    async retireKey(kid) {
      keys.retire(kid);
      rebuild();
    },
    tokenFor(login, { scopes, password } = {}) {
      const customer = customerWithLogin(login);
      return runCodeFlow({
        issuer,
        clientId: STOREFRONT_CLIENT_ID,
        redirectUri: redirectUris[0]!,
        login,
        password: password ?? customer?.password ?? '',
        scopes: scopes ?? ['openid', 'profile', ...(customer?.scopes ?? CUSTOMER_SCOPES)],
      });
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return identity;
}
