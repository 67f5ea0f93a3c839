/**
 * Webhooks through the API: endpoints per caller, the address guard at creation, orders followed
 * to COMPLETED and delivered signed to a receiver that verifies them with `standardwebhooks`,
 * through an outage of the receiver, and through a `kill -9` of a gateway process on Redis.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AddOrderDocument,
  AddSmsOrderDocument,
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  RedeliverWebhookDocument,
  RefillOrderDocument,
  RotateWebhookSecretDocument,
  ServicesPageDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
} from '../generated/graphql.ts';
import { startInstance } from '../support/cluster.ts';
import { codes, MANY_REQUESTS, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { redisPresent, startRedis, type RedisServer } from '../support/redis.ts';

const SHOP = 's3cret-shop-1';
const OTHER = 's3cret-other-2';

/** A gateway spending its own key, following every order, with a tiny retry schedule; the sandbox clock moves only when the test says. */
const following = (redisUrl?: string) => ({
  config: {
    serverKey: DEMO_KEY,
    gatewayTokens: [`shop:${SHOP}`, `other:${OTHER}`],
    redisUrl,
    rateLimit: MANY_REQUESTS,
    followPollMs: 50,
    followPollMaxMs: 200,
    webhooks: { allowPrivate: true, timeoutMs: 2000, retryScale: 0.0005, concurrency: 16 },
  },
  sandbox: { timeScale: 0, partialShare: 0, cancelShare: 0 },
});

async function createEndpoint(h: Harness, receiver: Receiver, key = SHOP, events?: string[]) {
  const created = await h.request(CreateWebhookEndpointDocument, { input: { url: receiver.url, events } }, { key });
  expect(created.errors).toBeUndefined();
  const { endpoint, secret } = created.data!.createWebhookEndpoint;
  receiver.secrets.push(secret);
  return endpoint;
}

/** Each order's versions as a receiver sees them after dedupe by webhook-id, sorted by data.version. */
function versionsByOrder(receiver: Receiver): Map<string, number[]> {
  const byOrder = new Map<string, number[]>();
  for (const hit of receiver.delivered()) {
    const id = String(hit.payload.data.order.id);
    byOrder.set(
      id,
      [...(byOrder.get(id) ?? []), hit.payload.data.version].sort((a, b) => a - b),
    );
  }
  return byOrder;
}

/** Drives the sandbox clock until every order is COMPLETED: out of Pending, then through the run. */
async function complete(h: Harness, receiver: Receiver, ids: string[]) {
  await expect
    .poll(() => {
      h.sandbox.advance(3600);
      const done = receiver.delivered().filter((hit) => hit.payload.data.order.status === 'COMPLETED');
      return new Set(done.map((hit) => hit.payload.data.order.id)).size;
    })
    .toBe(ids.length);
}

describe('webhook endpoints', () => {
  let h: Harness;
  let receiver: Receiver;
  beforeAll(async () => {
    h = await startHarness(following());
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
  });

  it('refuses a private address at creation unless WEBHOOK_ALLOW_PRIVATE is set', async () => {
    const strict = await startHarness({
      ...following(),
      config: { ...following().config, webhooks: { ...following().config.webhooks, allowPrivate: false } },
    });
    const refused = await strict.request(CreateWebhookEndpointDocument, { input: { url: 'http://127.0.0.1:9/hooks' } }, { key: SHOP });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'url',
      reason: 'ITS_HOST_RESOLVES_TO_A_LOOPBACK_ADDRESS',
    });
    const metadata = await strict.request(CreateWebhookEndpointDocument, { input: { url: 'http://169.254.169.254/' } }, { key: SHOP });
    expect(metadata.errors?.[0]?.extensions).toMatchObject({ field: 'url', reason: 'ITS_HOST_RESOLVES_TO_A_CLOUD_METADATA_ADDRESS' });
    await strict.close();
    const allowed = await h.request(CreateWebhookEndpointDocument, { input: { url: 'http://127.0.0.1:9/hooks' } }, { key: SHOP });
    expect(allowed.data!.createWebhookEndpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await h.request(DeleteWebhookEndpointDocument, { id: allowed.data!.createWebhookEndpoint.endpoint.id }, { key: SHOP });
  });

  it('refuses unknown event types and URLs that are not http(s)', async () => {
    const badEvent = await h.request(
      CreateWebhookEndpointDocument,
      { input: { url: receiver.url, events: ['order.created'] } },
      { key: SHOP },
    );
    expect(badEvent.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'events' });
    const ftp = await h.request(CreateWebhookEndpointDocument, { input: { url: 'ftp://example.com/x' } }, { key: SHOP });
    expect(ftp.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
  });

  it("lets a caller see and manage only its own endpoints and deliveries: another's id is NOT_FOUND as a missing one", async () => {
    const mine = await createEndpoint(h, receiver, SHOP, ['order.updated']);
    expect(mine).toMatchObject({ enabled: true, disabledReason: null, events: ['order.updated'] });
    const theirs = (await h.request(WebhookEndpointsDocument, {}, { key: OTHER })).data!.webhookEndpoints;

    expect(theirs).toEqual([]);
    const answers = async (id: string) => [
      await h.request(DeleteWebhookEndpointDocument, { id }, { key: OTHER }),
      await h.request(RotateWebhookSecretDocument, { id }, { key: OTHER }),
      await h.request(WebhookDeliveriesDocument, { endpointId: id }, { key: OTHER }),
    ];
    const [foreign, missing] = await Promise.all([answers(mine.id), answers('whe_missing')]);
    expect(foreign.map(codes)).toEqual([['NOT_FOUND'], ['NOT_FOUND'], ['NOT_FOUND']]);
    expect(foreign.map((answer) => answer.errors)).toEqual(missing.map((answer) => answer.errors));
    expect(codes(await h.request(RedeliverWebhookDocument, { deliveryId: 'whd_nope' }, { key: OTHER }))).toEqual(['NOT_FOUND']);
    expect((await h.request(WebhookEndpointsDocument, {}, { key: SHOP })).data!.webhookEndpoints.map((e) => e.id)).toContain(mine.id);
    expect((await h.request(DeleteWebhookEndpointDocument, { id: mine.id }, { key: SHOP })).data!.deleteWebhookEndpoint).toBe(true);
    expect((await h.request(WebhookEndpointsDocument, {}, { key: SHOP })).data!.webhookEndpoints).toEqual([]);
  });
});

describe('deliveries of followed orders', () => {
  let h: Harness;
  let receiver: Receiver;
  beforeAll(async () => {
    h = await startHarness(following());
    receiver = await startReceiver();
  });
  afterEach(async () => {
    for (const endpoint of (await h.request(WebhookEndpointsDocument, {}, { key: SHOP })).data!.webhookEndpoints)
      await h.request(DeleteWebhookEndpointDocument, { id: endpoint.id }, { key: SHOP });
    receiver.hits.splice(0);
    receiver.secrets.splice(0);
    receiver.mode = 'up';
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
  });

  it('delivers an order driven to COMPLETED with a valid signature, once per event after dedupe, and lists the deliveries', async () => {
    const endpoint = await createEndpoint(h, receiver);
    const id = await h.placeOrder({ key: SHOP });
    await complete(h, receiver, [id]);
    const versions = versionsByOrder(receiver).get(id)!;
    expect(versions[0]).toBe(1);
    expect(versions).toEqual(versions.map((_, index) => index + 1));
    for (const hit of receiver.delivered()) {
      expect(hit.verifiedBy).toEqual([0]);
      expect(hit.payload).toMatchObject({ type: 'order.updated', data: { kind: 'order', order: { id } } });
    }
    const page = (await h.request(WebhookDeliveriesDocument, { endpointId: endpoint.id, first: 50 }, { key: SHOP })).data!
      .webhookDeliveries;
    expect(page.totalCount).toBe(versions.length);
    expect(page.edges.every((edge) => edge.node.status === 'DELIVERED' && edge.node.lastStatusCode === 204)).toBe(true);
  });

  it('delivers the changes of an SMS order and of a refill as sms_order.updated and refill.updated', async () => {
    await createEndpoint(h, receiver, SHOP, ['sms_order.updated', 'refill.updated']);
    const rented = await h.request(AddSmsOrderDocument, { input: { projectId: '65f75df7ec32b396a2b3b275' } }, { key: SHOP });
    expect(rented.errors).toBeUndefined();
    const sms = rented.data!.addSmsOrder[0]!.id;
    const order = await h.placeOrder({ key: SHOP });
    await expect
      .poll(() => {
        h.sandbox.advance(3600);
        return receiver.delivered().some((hit) => hit.payload.type === 'sms_order.updated' && hit.payload.data.order.id === sms);
      })
      .toBe(true);
    const refill = await h.request(RefillOrderDocument, { input: { orderId: order } }, { key: SHOP });
    expect(refill.errors).toBeUndefined();
    const refillId = refill.data!.refillOrder.id;
    await expect
      .poll(() => {
        h.sandbox.advance(600);
        return receiver
          .delivered()
          .some(
            (hit) =>
              hit.payload.type === 'refill.updated' &&
              hit.payload.data.order.id === refillId &&
              hit.payload.data.order.status === 'COMPLETED',
          );
      })
      .toBe(true);
    const refillHit = receiver.delivered().find((hit) => hit.payload.type === 'refill.updated')!;
    expect(refillHit.payload.data).toMatchObject({ kind: 'refill', order: { id: refillId, orderId: order } });
    expect(receiver.delivered().every((hit) => hit.verifiedBy.length > 0 && hit.payload.type !== 'order.updated')).toBe(true);
  });

  it('delivers every event once the receiver is back from an outage, each order in version order after dedupe', async () => {
    await createEndpoint(h, receiver);
    receiver.mode = 'down';
    const ids = await Promise.all([1, 2, 3].map(() => h.placeOrder({ key: SHOP })));
    await expect.poll(() => receiver.hits.filter((hit) => hit.status === 503).length).toBeGreaterThanOrEqual(9);
    receiver.mode = 'up';
    await complete(h, receiver, ids);
    // The events held back by the outage come on their retry schedule, after the later ones.
    const contiguous = () =>
      ids.every((id) => {
        const versions = versionsByOrder(receiver).get(id) ?? [];
        return versions.length > 0 && versions.every((version, index) => version === index + 1);
      });
    await expect.poll(contiguous, { timeout: 10_000 }).toBe(true);
  });

  it('signs with both secrets after a rotation; the receiver verifies with either', async () => {
    const endpoint = await createEndpoint(h, receiver);
    const rotated = (await h.request(RotateWebhookSecretDocument, { id: endpoint.id }, { key: SHOP })).data!.rotateWebhookSecret;
    receiver.secrets.push(rotated.secret);
    await h.placeOrder({ key: SHOP });
    await expect.poll(() => receiver.delivered().length).toBeGreaterThan(0);
    const [hit] = receiver.delivered();
    expect(hit!.signature.split(' ')).toHaveLength(2);
    expect(hit!.verifiedBy).toEqual([0, 1]);
  });

  it('disables an endpoint that answers 410', async () => {
    const endpoint = await createEndpoint(h, receiver);
    receiver.mode = 'gone';
    await h.placeOrder({ key: SHOP });
    await expect
      .poll(async () =>
        (await h.request(WebhookEndpointsDocument, {}, { key: SHOP })).data!.webhookEndpoints.find((e) => e.id === endpoint.id),
      )
      .toMatchObject({ enabled: false, disabledReason: expect.stringMatching(/^GONE/) });
  });
});

describe.skipIf(!redisPresent)('deliveries across gateway processes on one Redis', () => {
  let redis: RedisServer;
  let receiver: Receiver;
  let sandbox: Harness;
  beforeAll(async () => {
    redis = await startRedis({ appendOnly: true });
    receiver = await startReceiver();
    sandbox = await startHarness({ sandbox: { timeScale: 0, partialShare: 0, cancelShare: 0 } });
  });
  afterAll(async () => {
    await sandbox.close();
    await receiver.close();
    await redis.close();
  });

  const env = () => ({
    HSTOCK_API_URL: sandbox.sandbox.url,
    HSTOCK_API_KEY: DEMO_KEY,
    GATEWAY_TOKENS: `shop:${SHOP}`,
    REDIS_URL: redis.url,
    FOLLOW_POLL_MS: '50',
    FOLLOW_POLL_MAX_MS: '200',
    RATE_LIMIT_PER_SECOND: '10000',
    RATE_LIMIT_BURST: '10000',
    WEBHOOK_ALLOW_PRIVATE: 'true',
    WEBHOOK_TIMEOUT_MS: '3000',
    WEBHOOK_RETRY_SCALE: '0.0005',
  });

  /** A typed operation against a gateway process, as the shop's backend. */
  async function gql<T, V>(url: string, document: TypedDocumentNode<T, V>, variables: V): Promise<T> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SHOP}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (!body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  }

  it('loses nothing when a gateway is killed (-9) mid-delivery and restarted on the same Redis', async () => {
    let gateway = await startInstance(env());
    const created = await gql(gateway.url, CreateWebhookEndpointDocument, { input: { url: receiver.url } });
    receiver.secrets.push(created.createWebhookEndpoint.secret);
    const endpointId = created.createWebhookEndpoint.endpoint.id;
    const service = (await gql(gateway.url, ServicesPageDocument, { first: 1, category: 'Instagram' })).services.edges[0]!.node;
    const input = { serviceId: service.id, quantity: service.min, link: 'https://instagram.com/p/kill' };
    receiver.delayMs = 2000;
    const ids = await Promise.all(
      Array.from({ length: 10 }, async () => (await gql(gateway.url, AddOrderDocument, { input })).addOrder.id),
    );
    await expect.poll(() => receiver.hits.length).toBeGreaterThan(0);
    sandbox.sandbox.advance(3600);
    await gateway.kill();
    receiver.delayMs = 0;
    gateway = await startInstance(env());
    const deliveries = async () =>
      (await gql(gateway.url, WebhookDeliveriesDocument, { endpointId, first: 500 })).webhookDeliveries.edges.map((edge) => edge.node);
    await expect
      .poll(async () => (await deliveries()).filter((delivery) => delivery.status !== 'DELIVERED').length, { timeout: 20_000 })
      .toBe(0);
    const recorded = await deliveries();
    expect(recorded.length).toBeGreaterThanOrEqual(ids.length);
    expect(new Set(receiver.delivered().map((hit) => hit.id))).toEqual(new Set(recorded.map((delivery) => delivery.eventId)));
    expect(new Set(receiver.delivered().map((hit) => String(hit.payload.data.order.id)))).toEqual(new Set(ids));
    await gateway.stop();
  }, 60_000);
});

describe.skipIf(!redisPresent)('two gateways delivering from one Redis', () => {
  let redis: RedisServer;
  let one: Harness;
  let two: Harness;
  let receiver: Receiver;
  beforeAll(async () => {
    redis = await startRedis();
    receiver = await startReceiver();
    one = await startHarness(following(redis.url));
    two = await startHarness({ ...following(redis.url), upstream: one.sandbox });
  });
  afterAll(async () => {
    await two.close();
    await one.close();
    await receiver.close();
    await redis.close();
  });

  it('sends each attempt from one of them: every event reaches the receiver once', async () => {
    await createEndpoint(one, receiver);
    const ids: string[] = [];
    for (let n = 0; n < 20; n += 1) ids.push(await (n % 2 ? one : two).placeOrder({ key: SHOP }));
    await complete(one, receiver, ids);
    const perId = new Map<string, number>();
    for (const hit of receiver.hits) perId.set(hit.id, (perId.get(hit.id) ?? 0) + 1);
    expect(perId.size).toBeGreaterThanOrEqual(ids.length);
    expect([...perId.values()].every((count) => count === 1)).toBe(true);
    expect(receiver.hits.every((hit) => hit.verifiedBy.length > 0 && hit.status === 204)).toBe(true);
  });
});
