/**
 * The oidc-provider configuration: one public client (the storefront), the gateway as the one
 * resource server, JWT access tokens for it, the demo customers as accounts. A Provider's keys are
 * fixed, so a rotation builds a new one on the same storage and cookie keys.
 */
import Provider, { errors, type AdapterFactory, type Configuration, type ResourceServer } from 'oidc-provider';
import { customerWithSubject, GATEWAY_SCOPES } from './customers.ts';
import type { KeyRing } from './keys.ts';

export const STOREFRONT_CLIENT_ID = 'storefront';

/** Lifetimes in seconds besides the access token's: short enough for a sandbox, long enough for a day of trying. */
const TTL_S = {
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  Interaction: 60 * 60,
  RefreshToken: 24 * 60 * 60,
  Session: 24 * 60 * 60,
  Grant: 24 * 60 * 60,
};

export interface ProviderSettings {
  issuer: string;
  /** The `aud` of access tokens. */
  audience: string;
  /** The resource indicator that names the gateway: the audience when it is a URI. */
  resource: string;
  accessTokenTtlS: number;
  redirectUris: string[];
  corsAllowed: (origin: string) => boolean;
  keys: KeyRing;
  adapter: AdapterFactory;
  cookieKeys: string[];
}

export function buildProvider(settings: ProviderSettings): Provider {
  const { algorithm } = settings.keys;
  const gateway: ResourceServer = {
    scope: GATEWAY_SCOPES.join(' '),
    audience: settings.audience,
    accessTokenTTL: settings.accessTokenTtlS,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: algorithm } },
  };
  const configuration: Configuration = {
    adapter: settings.adapter,
    jwks: settings.keys.jwks,
    cookies: { keys: settings.cookieKeys },
    clients: [
      {
        client_id: STOREFRONT_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: settings.redirectUris,
      },
    ],
    clientDefaults: { id_token_signed_response_alg: algorithm },
    scopes: ['openid', 'profile', 'offline_access'],
    claims: { openid: ['sub'], profile: ['name'] },
    // The storefront reads the customer's name from the ID token, without a second token for userinfo.
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => {
      const customer = customerWithSubject(sub);
      return customer && { accountId: sub, claims: () => ({ sub, name: customer.name }) };
    },
    // A JSON number, as the gateway reads the claim: '14.50' goes out as 14.5, the same amount.
    extraTokenClaims: (_ctx, token) => {
      const limit = 'accountId' in token ? customerWithSubject(token.accountId)?.spendLimit : undefined;
      return limit === undefined ? undefined : { spend_limit: Number(limit) };
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // A client that names no resource still gets a token for the gateway.
        defaultResource: () => settings.resource,
        // ...unless it asked for none of the gateway's scopes: then its token is for userinfo.
        useGrantedResource: (_ctx, model) => (model.scope ?? '').split(' ').some((scope) => gateway.scope.split(' ').includes(scope)),
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== settings.resource) throw new errors.InvalidTarget(`the only resource here is ${settings.resource}`);
          return gateway;
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    clientBasedCORS: (_ctx, origin) => settings.corsAllowed(origin),
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: settings.accessTokenTtlS, ...TTL_S },
  };
  return new Provider(settings.issuer, configuration);
}
