/** The sandbox's identity provider for tests, and the gateway settings that trust it. */
import { readJwtConfig, type JwtConfig } from '../../src/config.ts';
import { createIdentityProvider, type IdentityProvider, type IdentityProviderOptions } from '../../src/sandbox/identity/index.ts';

export type { IdentityProvider };

export function startIdentity(options: IdentityProviderOptions = {}): Promise<IdentityProvider> {
  return createIdentityProvider({ port: 0, ...options });
}

/** JWT_ISSUER and JWT_AUDIENCE of `idp`, the customers' own spend limits read, with no clock tolerance unless given. */
export function trusting(idp: Pick<IdentityProvider, 'issuer' | 'audience'>, overrides: Partial<JwtConfig> = {}): JwtConfig {
  const settings = readJwtConfig({ JWT_ISSUER: idp.issuer, JWT_AUDIENCE: idp.audience, JWT_SPEND_LIMIT_CLAIM: 'spend_limit' })!;
  return { ...settings, clockToleranceS: 0, ...overrides };
}
