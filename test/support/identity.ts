/** The sandbox's identity provider for tests, and the gateway settings that trust it. */
import type { JwtConfig } from '../../src/config.ts';
import { createIdentityProvider, type IdentityProvider, type IdentityProviderOptions } from '../../src/sandbox/identity/index.ts';

export type { IdentityProvider };

export function startIdentity(options: IdentityProviderOptions = {}): Promise<IdentityProvider> {
  return createIdentityProvider({ port: 0, ...options });
}

/** JWT_ISSUER and JWT_AUDIENCE of `idp`, the customers' own spend limits read, with no clock tolerance unless given. */
export function trusting(idp: IdentityProvider, overrides: Partial<JwtConfig> = {}): JwtConfig {
  return {
    issuer: idp.issuer,
    jwksUrl: undefined,
    audience: idp.audience,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    scopesClaim: 'scope',
    spendLimitClaim: 'spend_limit',
    clockToleranceS: 0,
    jwksCooldownMs: 30_000,
    jwksMaxAgeMs: 600_000,
    ...overrides,
  };
}
