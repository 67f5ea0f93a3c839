/**
 * The provider's signing keys, newest first: the first signs, the others stay published so that
 * tokens they signed still verify until they are retired.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** The algorithms the gateway accepts. */
export type SigningAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

/** A key that cannot be retired: unknown, or the last one left. */
export class KeyError extends Error {
  override name = 'KeyError';

  constructor(
    message: string,
    readonly status: 404 | 409,
  ) {
    super(message);
  }
}

export class KeyRing {
  private keys: JWK[] = [];

  constructor(readonly algorithm: SigningAlgorithm) {}

  /** The private keys, as oidc-provider's `jwks` takes them. */
  get jwks(): { keys: JWK[] } {
    return { keys: [...this.keys] };
  }

  get kids(): string[] {
    return this.keys.map((key) => key.kid!);
  }

  /** Adds a new key in front, which signs from now on; answers its kid. */
  async rotate(): Promise<string> {
    const { privateKey } = await generateKeyPair(this.algorithm, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = await calculateJwkThumbprint(jwk);
    this.keys.unshift({ ...jwk, kid, alg: this.algorithm, use: 'sig' });
    return kid;
  }

  retire(kid: string): void {
    const index = this.keys.findIndex((key) => key.kid === kid);
    if (index < 0) throw new KeyError(`no key ${kid} in the key set`, 404);
    if (this.keys.length === 1) throw new KeyError(`${kid} is the last key; rotate first`, 409);
    this.keys.splice(index, 1);
  }
}
