/**
 * Customers signed in with the sandbox's identity provider: real tokens from its authorization code
 * flow over HTTP, SSE and WebSocket; scopes; each customer's own orders; the public catalogue;
 * CORS; and the tokens the gateway refuses.
 */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddOrderDocument,
  BalanceDocument,
  CancelOrdersDocument,
  CreateWebhookEndpointDocument,
  CustomerCatalogueDocument,
  CustomerOrderDocument,
  CustomerOrdersDocument,
  CustomerOrderStatusDocument,
  CustomerPlacedDocument,
  MeDocument,
  RefillDocument,
  RefillOrderDocument,
  ServicesPageDocument,
} from '../generated/graphql.ts';
import { codes, MANY_REQUESTS, startHarness, type Harness } from '../support/harness.ts';
import { startIdentity, trusting, type IdentityProvider } from '../support/identity.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { listen } from '../support/ports.ts';
import { collectSse, collectWs, wsClient } from '../support/subscribe.ts';

const SHOP = 's3cret-shop-1';
const NOWHERE = '999999999';
const order = (serviceId: string, quantity: number, idempotencyKey?: string) => ({
  input: { serviceId, quantity, link: 'https://instagram.com/p/customer', idempotencyKey },
});

describe('customers signed in with the identity provider', () => {
  let idp: IdentityProvider;
  let h: Harness;
  const tokens: Record<string, string> = {};
  let serviceId: string;

  beforeAll(async () => {
    idp = await startIdentity();
    h = await startHarness({
      sandbox: { partialShare: 0, cancelShare: 0, refillRejectShare: 0 },
      config: { serverKey: DEMO_KEY, gatewayTokens: [`shop:${SHOP}`], jwt: trusting(idp), rateLimit: MANY_REQUESTS },
    });
    for (const login of ['alice', 'bob', 'sam']) tokens[login] = (await idp.tokenFor(login)).accessToken;
    const page = await h.request(ServicesPageDocument, { first: 1, category: 'Instagram' }, { key: SHOP });
    serviceId = page.data!.services.edges[0]!.node.id;
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('makes the token’s subject the caller, with the scopes its token grants', async () => {
    const { data, errors } = await h.request(MeDocument, {}, { key: tokens.alice });
    expect(errors).toBeUndefined();
    expect(data!.me).toMatchObject({
      caller: 'customer:customer-alice',
      scopes: ['catalogue:read', 'orders:read', 'orders:place', 'sms:rent'],
    });
    expect(Date.parse(String(data!.me.expiresAt))).toBeGreaterThan(Date.now());
  });

  it('refuses the wholesale figures and the balance to a customer by name, with no supplier call, and shows them to staff', async () => {
    h.sandbox.resetStats();
    const balance = await h.request(BalanceDocument, {}, { key: tokens.alice });
    expect(balance.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'account:read' });
    const rates = await h.request(ServicesPageDocument, { first: 5, category: 'Instagram' }, { key: tokens.alice });
    expect(rates.errors?.map((error) => error.extensions?.code)).toContain('FORBIDDEN');
    expect(rates.data).toBeNull();
    expect(h.calls('balance')).toBe(0);
    const plain = await h.request(CustomerCatalogueDocument, { first: 5 }, { key: tokens.alice });
    expect(plain.errors).toBeUndefined();
    expect(plain.data!.services.edges).toHaveLength(5);
    const staff = await h.request(BalanceDocument, {}, { key: tokens.sam });
    expect(staff.errors).toBeUndefined();
  });

  it("answers every path to another customer's order as for an order that does not exist", async () => {
    const placed = await h.request(AddOrderDocument, order(serviceId, 100, 'alice-1'), { key: tokens.alice });
    expect(placed.errors).toBeUndefined();
    const id = placed.data!.addOrder.id;
    h.sandbox.advance(600);
    h.sandbox.resetStats();

    const same = async <T>(read: (target: string) => Promise<T>, view: (answer: T) => unknown) => {
      expect(view(await read(id))).toEqual(view(await read(NOWHERE)));
    };
    const errorsOf = (answer: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }) =>
      answer.errors?.map((error) => [error.message, error.extensions?.code]);
    await same((target) => h.request(CustomerOrderDocument, { id: target }, { key: tokens.bob }), errorsOf);
    await same(
      (target) => h.request(CustomerOrdersDocument, { ids: [target] }, { key: tokens.bob }),
      (answer) => [answer.data, errorsOf(answer)],
    );
    await same((target) => h.request(RefillOrderDocument, { input: { orderId: target } }, { key: tokens.bob }), errorsOf);
    await same(
      (target) => h.request(CancelOrdersDocument, { ids: [target] }, { key: tokens.bob }),
      (answer) => answer.data!.cancelOrders.map(({ requested, error, order: seen }) => [requested, error, seen]),
    );
    await same(
      (target) => collectSse(h.url, CustomerOrderStatusDocument, { id: target }, { key: tokens.bob }),
      (events) => events.map((event) => errorsOf(event as never)),
    );
    const client = wsClient(h.url, { authorization: `Bearer ${tokens.bob}` });
    await same(
      (target) => collectWs(client, CustomerOrderStatusDocument, { id: target }),
      (events) => events.map((event) => errorsOf(event as never)),
    );
    await client.dispose();
    // The supplier was never asked: the ledger says whose order it is.
    expect(h.calls()).toBe(0);

    const listed = await h.request(CustomerPlacedDocument, {}, { key: tokens.bob });
    expect(listed.data!.placedOrders.edges.map((edge) => edge.node.order?.id)).not.toContain(id);
    // A replay of alice's idempotency key by bob is bob's own key: it places bob's order, never returns alice's.
    const replay = await h.request(AddOrderDocument, order(serviceId, 100, 'alice-1'), { key: tokens.bob });
    expect(replay.data!.addOrder.id).not.toBe(id);

    const own = await h.request(CustomerOrderDocument, { id }, { key: tokens.alice });
    expect(own.data!.order).toMatchObject({ id, status: 'COMPLETED' });
    const refill = await h.request(RefillOrderDocument, { input: { orderId: id } }, { key: tokens.alice });
    expect(refill.errors).toBeUndefined();
    const theirRefill = await h.request(RefillDocument, { id: refill.data!.refillOrder.id }, { key: tokens.bob });
    expect(codes(theirRefill)).toEqual(['NOT_FOUND']);
  });

  it('lets a backend place for a customer, who then owns it, the backend reading it too', async () => {
    const placed = await h.request(
      AddOrderDocument,
      { input: { ...order(serviceId, 100).input, onBehalfOf: 'customer-carol' } },
      { key: SHOP },
    );
    expect(placed.errors).toBeUndefined();
    const id = placed.data!.addOrder.id;
    const carol = (await idp.tokenFor('carol')).accessToken;
    expect((await h.request(CustomerOrderDocument, { id }, { key: carol })).data!.order?.id).toBe(id);
    expect(
      (await h.request(CustomerPlacedDocument, {}, { key: carol })).data!.placedOrders.edges.map((edge) => edge.node.order?.id),
    ).toContain(id);
    expect((await h.request(CustomerOrderDocument, { id }, { key: SHOP })).data!.order?.id).toBe(id);
    expect(codes(await h.request(CustomerOrderDocument, { id }, { key: tokens.alice }))).toEqual(['NOT_FOUND']);

    const asCustomer = await h.request(
      AddOrderDocument,
      { input: { ...order(serviceId, 100).input, onBehalfOf: 'customer-carol' } },
      { key: tokens.alice },
    );
    expect(asCustomer.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'onBehalfOf' });
  });

  it('lets no one receive order states by webhook who may not read them: creating an endpoint needs orders:read too', async () => {
    const placeOnly = (await idp.tokenFor('carol', { scopes: ['openid', 'orders:place'] })).accessToken;
    const answer = await h.request(CreateWebhookEndpointDocument, { input: { url: 'https://hooks.example/in' } }, { key: placeOnly });
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'orders:read' });
  });

  it('refuses a token signed by a key the provider does not list, a tampered one and an HMAC one, before any supplier call', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ scope: 'orders:read' })
      .setProtectedHeader({ alg: 'RS256', kid: 'forged' })
      .setIssuer(idp.issuer)
      .setAudience(idp.audience)
      .setSubject('customer-alice')
      .setExpirationTime('5m')
      .sign(privateKey);
    const [header, payload, signature] = tokens.alice!.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub: 'customer-bob' })).toString('base64url')}.${signature}`;
    const hmac = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('secret'));
    h.sandbox.resetStats();
    for (const [token, reason] of [
      [forged, 'TOKEN_FOREIGN'],
      [tampered, 'TOKEN_INVALID'],
      [hmac, 'TOKEN_INVALID'],
    ] as const) {
      const answer = await h.request(CustomerOrderDocument, { id: NOWHERE }, { key: token });
      expect(answer.errors?.[0]?.extensions, reason).toMatchObject({ code: 'UNAUTHENTICATED', reason });
    }
    expect(h.calls()).toBe(0);
  });
});

describe('tokens that expire, and keys that rotate', () => {
  let idp: IdentityProvider;
  let h: Harness;

  beforeAll(async () => {
    idp = await startIdentity({ accessTokenTtlS: 2 });
    h = await startHarness({
      sandbox: { partialShare: 0, cancelShare: 0 },
      config: {
        serverKey: DEMO_KEY,
        gatewayTokens: [`shop:${SHOP}`],
        jwt: trusting(idp, { jwksMaxAgeMs: 1000, jwksCooldownMs: 0 }),
        orderPollMs: 60_000,
        orderPollMaxMs: 60_000,
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('closes a WebSocket opened with a token when it expires (4403), and ends an SSE subscription with UNAUTHENTICATED', async () => {
    const { accessToken } = await idp.tokenFor('alice');
    const placed = await h.request(AddOrderDocument, order('1001', 100), { key: accessToken });
    const id = placed.data!.addOrder.id;
    const closed = new Promise<number>((resolve) => {
      const client = wsClient(h.url, { authorization: `Bearer ${accessToken}` });
      client.on('closed', (event) => resolve((event as { code: number }).code));
      void collectWs(client, CustomerOrderStatusDocument, { id }).catch(() => undefined);
    });
    const sse = collectSse(h.url, CustomerOrderStatusDocument, { id }, { key: accessToken });
    expect(await closed).toBe(4403);
    const events = await sse;
    expect(events[0]?.data?.orderStatus.status).toBe('PENDING');
    expect(events.at(-1)?.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    const later = await h.request(MeDocument, {}, { key: accessToken });
    expect(later.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
  });
});

describe('keys that rotate', () => {
  let idp: IdentityProvider;
  let h: Harness;

  beforeAll(async () => {
    idp = await startIdentity();
    h = await startHarness({
      config: { serverKey: DEMO_KEY, gatewayTokens: [`shop:${SHOP}`], jwt: trusting(idp, { jwksMaxAgeMs: 1000, jwksCooldownMs: 0 }) },
    });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('takes a new key at once, and an old one until the provider retires it', async () => {
    const old = (await idp.tokenFor('bob')).accessToken;
    expect((await h.request(MeDocument, {}, { key: old })).errors).toBeUndefined();
    const [oldKid] = idp.kids;
    await idp.rotateKeys();
    const fresh = (await idp.tokenFor('bob')).accessToken;
    expect((await h.request(MeDocument, {}, { key: fresh })).errors).toBeUndefined();
    expect((await h.request(MeDocument, {}, { key: old })).errors).toBeUndefined();
    await idp.retireKey(oldKid!);
    // The gateway reads the key set again once it is older than JWT_JWKS_MAX_AGE_S (1 s here).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await h.request(MeDocument, {}, { key: fresh })).errors).toBeUndefined();
    const retired = await h.request(MeDocument, {}, { key: old });
    expect(retired.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_FOREIGN' });
  });
});

describe('a flood of tokens signed by keys nobody lists', () => {
  let jwks: Server;
  let fetches = 0;
  let h: Harness;
  let issued: { privateKey: CryptoKey; kid: string };

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    issued = { privateKey, kid: 'listed' };
    const listed = { keys: [{ ...(await exportJWK(publicKey)), kid: 'listed', alg: 'ES256', use: 'sig' }] };
    jwks = createServer((_request, response) => {
      fetches += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listed));
    });
    const origin = await listen(jwks);
    h = await startHarness({
      config: {
        serverKey: DEMO_KEY,
        gatewayTokens: [`shop:${SHOP}`],
        jwt: {
          ...trusting({ issuer: 'https://id.example', audience: 'shop' }),
          issuer: 'https://id.example',
          jwksUrl: `${origin}/jwks`,
        },
        // Failing credentials from one address are limited too; this test is about the key set's fetches.
        authFailuresPerMinute: 1000,
      },
    });
  });
  afterAll(async () => {
    await h.close();
    jwks.close();
  });

  const sign = (kid: string, key: CryptoKey, subject: string, claims: { audience?: string; issuer?: string; expires?: string } = {}) =>
    new SignJWT({ scope: 'catalogue:read' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(claims.issuer ?? 'https://id.example')
      .setAudience(claims.audience ?? 'shop')
      .setSubject(subject)
      .setExpirationTime(claims.expires ?? '5m')
      .sign(key);

  it('refuses a token for another audience or issuer, and an expired one, with the reason', async () => {
    for (const [claims, reason] of [
      [{ audience: 'another-gateway' }, 'TOKEN_FOREIGN'],
      [{ issuer: 'https://elsewhere.example' }, 'TOKEN_FOREIGN'],
      [{ expires: '-1m' }, 'TOKEN_EXPIRED'],
    ] as const) {
      const answer = await h.request(MeDocument, {}, { key: await sign(issued.kid, issued.privateKey, 'customer-2', claims) });
      expect(answer.errors?.[0]?.extensions, reason).toMatchObject({ code: 'UNAUTHENTICATED', reason });
    }
  });

  it('fetches the key set once for a hundred unknown key ids within the cool-down', async () => {
    const good = await sign(issued.kid, issued.privateKey, 'customer-1');
    expect((await h.request(MeDocument, {}, { key: good })).errors).toBeUndefined();
    const before = fetches;
    const { privateKey } = await generateKeyPair('ES256');
    for (let n = 0; n < 100; n += 1) {
      const answer = await h.request(MeDocument, {}, { key: await sign(`unknown-${n}`, privateKey, `customer-${n}`) });
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_FOREIGN' });
    }
    expect(fetches - before).toBeLessThanOrEqual(1);
  });
});

describe('the public web', () => {
  let idp: IdentityProvider;
  let h: Harness;

  beforeAll(async () => {
    idp = await startIdentity();
    h = await startHarness({
      config: {
        serverKey: DEMO_KEY,
        gatewayTokens: [`shop:${SHOP}`],
        jwt: trusting(idp),
        publicCatalogue: true,
        corsOrigins: ['https://shop.example'],
        rateLimit: { perSecond: 1, burst: 5 },
      },
    });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('lets a visitor without credentials read the catalogue, and nothing else', async () => {
    const catalogue = await h.request(CustomerCatalogueDocument, { first: 3 }, { key: null });
    expect(catalogue.errors).toBeUndefined();
    expect(catalogue.data!.services.edges).toHaveLength(3);
    const rates = await h.request(ServicesPageDocument, { first: 3, category: 'Instagram' }, { key: null });
    expect(rates.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', scope: 'account:read' });
    for (const answer of [
      await h.request(BalanceDocument, {}, { key: null }),
      await h.request(AddOrderDocument, order('1001', 100), { key: null }),
      await h.request(CustomerPlacedDocument, {}, { key: null }),
    ]) {
      expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('answers CORS for the listed origin only', async () => {
    const preflight = (origin: string) =>
      fetch(h.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
    expect((await preflight('https://shop.example')).headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });

  it("counts each customer's requests on its own: one customer's flood locks out no other", async () => {
    const alice = (await idp.tokenFor('alice')).accessToken;
    const bob = (await idp.tokenFor('bob')).accessToken;
    const flood = await Promise.all(Array.from({ length: 20 }, () => h.request(MeDocument, {}, { key: alice })));
    expect(flood.filter((answer) => codes(answer).includes('RATE_LIMITED')).length).toBeGreaterThan(10);
    const others = await Promise.all(Array.from({ length: 5 }, () => h.request(MeDocument, {}, { key: bob })));
    expect(others.every((answer) => answer.errors === undefined)).toBe(true);
  });
});

describe('CORS where the gateway spends its own key and CORS_ORIGINS is unset', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: { serverKey: DEMO_KEY, gatewayTokens: [`shop:${SHOP}`] } });
  });
  afterAll(() => h.close());

  it('lets no origin call, where it used to echo any', async () => {
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('customers in pass-through mode', () => {
  let idp: IdentityProvider;
  let h: Harness;
  beforeAll(async () => {
    idp = await startIdentity();
    h = await startHarness({ config: { jwt: trusting(idp) } });
  });
  afterAll(async () => {
    await h.close();
    await idp.close();
  });

  it('spends the supplier key sent beside the token, and refuses a token without one', async () => {
    const alice = (await idp.tokenFor('alice')).accessToken;
    const beside = await h.request(MeDocument, {}, { key: alice, headers: { 'x-api-key': DEMO_KEY } });
    expect(beside.data!.me).toMatchObject({ caller: 'customer:customer-alice' });
    const placed = await h.request(AddOrderDocument, order('1001', 100), { key: alice, headers: { 'x-api-key': DEMO_KEY } });
    expect(placed.errors).toBeUndefined();
    const alone = await h.request(CustomerCatalogueDocument, { first: 1 }, { key: alice });
    expect(alone.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(alone.errors?.[0]?.message).toMatch(/X-Api-Key/);
  });
});

describe('an identity provider that cannot be reached', () => {
  let discovery: Server;
  let asked = 0;
  let h: Harness;
  beforeAll(async () => {
    discovery = createServer((_request, response) => {
      asked += 1;
      response.writeHead(503).end();
    });
    const issuer = await listen(discovery);
    h = await startHarness({
      config: {
        serverKey: DEMO_KEY,
        gatewayTokens: [`shop:${SHOP}`],
        jwt: { ...trusting({ issuer, audience: 'shop' }), jwksCooldownMs: 60_000 },
        authFailuresPerMinute: 1000,
      },
    });
  });
  afterAll(async () => {
    await h.close();
    discovery.close();
  });

  it('is asked once per cool-down, however many tokens come, and they are refused as KEYS_UNAVAILABLE', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    for (let n = 0; n < 20; n += 1) {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: `k${n}` })
        .setSubject(`s${n}`)
        .setExpirationTime('5m')
        .sign(privateKey);
      const answer = await h.request(MeDocument, {}, { key: token });
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'KEYS_UNAVAILABLE' });
    }
    expect(asked).toBe(1);
  });
});
