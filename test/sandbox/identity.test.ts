import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityProvider, KeyError, type IdentityProvider, type IdentityProviderOptions } from '../../src/sandbox/identity/index.ts';

const started: IdentityProvider[] = [];

async function start(options?: IdentityProviderOptions): Promise<IdentityProvider> {
  const identity = await createIdentityProvider(options);
  started.push(identity);
  return identity;
}

afterAll(() => Promise.all(started.map((identity) => identity.close())));

async function discovery(identity: IdentityProvider): Promise<Record<string, unknown>> {
  return (await fetch(`${identity.issuer}/.well-known/openid-configuration`)).json() as Promise<Record<string, unknown>>;
}

/** Verifies as the gateway does: the key set found through discovery, fetched anew each call. */
async function verify(identity: IdentityProvider, token: string, currentDate?: Date) {
  const keys = createRemoteJWKSet(new URL((await discovery(identity)).jwks_uri as string));
  const { payload } = await jwtVerify(token, keys, { issuer: identity.issuer, audience: identity.audience, currentDate });
  return payload;
}

describe('the sandbox identity provider', () => {
  let identity: IdentityProvider;
  beforeAll(async () => {
    identity = await start();
  });

  it('publishes its discovery document: issuer, key set, endpoints, S256 PKCE', async () => {
    const document = await discovery(identity);
    expect(identity.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(document).toMatchObject({
      issuer: identity.issuer,
      jwks_uri: `${identity.issuer}/jwks`,
      authorization_endpoint: `${identity.issuer}/auth`,
      token_endpoint: `${identity.issuer}/token`,
      code_challenge_methods_supported: ['S256'],
    });
  });

  it('gives alice a JWT for the gateway that its published keys verify, with her subject and scopes', async () => {
    const { accessToken, expiresIn, idToken } = await identity.tokenFor('alice');
    const claims = await verify(identity, accessToken);
    expect(claims).toMatchObject({ sub: 'customer-alice', aud: 'hstock-gateway', client_id: 'storefront' });
    expect(claims.scope).toBe('catalogue:read orders:read orders:place sms:rent');
    expect(claims).not.toHaveProperty('spend_limit');
    expect(decodeProtectedHeader(accessToken)).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: identity.kids[0] });
    expect(expiresIn).toBe(900);
    expect(decodeJwt(idToken!)).toMatchObject({ sub: 'customer-alice', name: 'Alice Example', aud: 'storefront' });
  });

  it('puts the spend limit of a customer that has one in the spend_limit claim, as a number', async () => {
    const { accessToken } = await identity.tokenFor('bob');
    expect(await verify(identity, accessToken)).toMatchObject({ sub: 'customer-bob', spend_limit: 14.5 });
  });

  it('grants the scopes asked for among those the customer may have, and account:read to staff only', async () => {
    const alice = await identity.tokenFor('alice', { scopes: ['openid', 'catalogue:read', 'account:read'] });
    expect(decodeJwt(alice.accessToken).scope).toBe('catalogue:read');
    const sam = await identity.tokenFor('sam', { scopes: ['openid', 'orders:read', 'account:read'] });
    expect(decodeJwt(sam.accessToken).scope).toBe('orders:read account:read');
  });

  it('gives a client that asks for no gateway scope a token for userinfo instead', async () => {
    const { accessToken } = await identity.tokenFor('carol', { scopes: ['openid', 'profile'] });
    expect(accessToken).not.toMatch(/^eyJ/);
    const userinfo = await fetch(`${identity.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(await userinfo.json()).toEqual({ sub: 'customer-carol', name: 'Carol Example' });
  });

  it('refuses a wrong password, and a login it does not know', async () => {
    await expect(identity.tokenFor('alice', { password: 'bob-demo' })).rejects.toThrow('alice: wrong login or password');
    await expect(identity.tokenFor('mallory', { password: 'mallory' })).rejects.toThrow('mallory: wrong login or password');
  });

  it('refuses an authorization request of the storefront without a PKCE code challenge', async () => {
    const url = new URL('/auth', identity.issuer);
    url.search = new URLSearchParams({
      client_id: identity.clientId,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:5173/',
      scope: 'openid catalogue:read',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    const redirect = new URL(response.headers.get('location')!);
    expect(`${redirect.origin}${redirect.pathname}`).toBe('http://127.0.0.1:5173/');
    expect(redirect.searchParams.get('error')).toBe('invalid_request');
    expect(redirect.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('lets pages on localhost call the token endpoint from a browser, and no other origin', async () => {
    const tokenRequest = (origin: string) =>
      fetch(`${identity.issuer}/token`, {
        method: 'POST',
        headers: { origin },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: identity.clientId,
          code: 'unknown',
          redirect_uri: 'http://localhost:5173/',
          code_verifier: 'x'.repeat(43),
        }),
      });
    const local = await tokenRequest('http://localhost:5173');
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(await local.json()).toMatchObject({ error: 'invalid_grant' });
    const foreign = await tokenRequest('https://shop.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(await foreign.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/origin/) });
  });

  it('lists its demo customers without passwords at /__identity/customers', async () => {
    const { customers } = (await (await fetch(`${identity.issuer}/__identity/customers`)).json()) as { customers: object[] };
    expect(customers).toContainEqual({
      subject: 'customer-bob',
      login: 'bob',
      name: 'Bob Example',
      spendLimit: '14.50',
      scopes: ['catalogue:read', 'orders:read', 'orders:place', 'sms:rent'],
    });
    expect(JSON.stringify(customers)).not.toContain('-demo');
  });
});

describe('key rotation', () => {
  let identity: IdentityProvider;
  afterEach(() => identity.close());

  it('signs with the new key after a rotation, and tokens of the old key still verify', async () => {
    identity = await start();
    const [old] = identity.kids;
    const before = await identity.tokenFor('alice');
    const kid = await identity.rotateKeys();
    expect(identity.kids).toEqual([kid, old]);
    const after = await identity.tokenFor('alice');
    expect(decodeProtectedHeader(after.accessToken).kid).toBe(kid);
    expect((await verify(identity, before.accessToken)).sub).toBe('customer-alice');
    expect((await verify(identity, after.accessToken)).sub).toBe('customer-alice');
  });

  it('keeps grants across a rotation: a refresh token from before gets a token signed by the new key', async () => {
    identity = await start();
    const { refreshToken } = await identity.tokenFor('bob');
    const kid = await identity.rotateKeys();
    const response = await fetch(`${identity.issuer}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken!, client_id: identity.clientId }),
    });
    const { access_token } = (await response.json()) as { access_token: string };
    expect(decodeProtectedHeader(access_token).kid).toBe(kid);
    expect(await verify(identity, access_token)).toMatchObject({ sub: 'customer-bob', spend_limit: 14.5 });
  });

  it('fails tokens of a retired key on a fresh key set', async () => {
    identity = await start();
    const [old] = identity.kids;
    const before = await identity.tokenFor('alice');
    await identity.rotateKeys();
    await identity.retireKey(old!);
    expect(identity.kids).not.toContain(old);
    await expect(verify(identity, before.accessToken)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('rotates and retires through /__identity/keys, and never retires the last key', async () => {
    identity = await start();
    const [old] = identity.kids;
    const { kid } = (await (await fetch(`${identity.issuer}/__identity/keys`, { method: 'POST' })).json()) as { kid: string };
    expect(identity.kids).toEqual([kid, old]);
    const retired = await fetch(`${identity.issuer}/__identity/keys/${old}`, { method: 'DELETE' });
    expect(await retired.json()).toEqual({ kids: [kid] });
    const last = await fetch(`${identity.issuer}/__identity/keys/${kid}`, { method: 'DELETE' });
    expect(last.status).toBe(409);
    await expect(identity.retireKey(kid)).rejects.toBeInstanceOf(KeyError);
    expect((await identity.tokenFor('carol')).accessToken).toBeTruthy();
  });
});

describe('token lifetime and algorithms', () => {
  it('makes access tokens expire accessTokenTtlS after they are issued', async () => {
    const identity = await start({ accessTokenTtlS: 2 });
    const { accessToken, expiresIn } = await identity.tokenFor('carol');
    const { iat, exp } = decodeJwt(accessToken);
    expect(expiresIn).toBe(2);
    expect(exp! - iat!).toBe(2);
    await expect(verify(identity, accessToken, new Date((exp! + 1) * 1000))).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it.each(['ES256', 'EdDSA'] as const)('signs with %s keys when asked', async (algorithm) => {
    const identity = await start({ algorithm, audience: 'http://127.0.0.1:4000/graphql' });
    const { accessToken } = await identity.tokenFor('alice');
    expect(decodeProtectedHeader(accessToken).alg).toBe(algorithm);
    expect(await verify(identity, accessToken)).toMatchObject({ sub: 'customer-alice', aud: 'http://127.0.0.1:4000/graphql' });
  });
});
