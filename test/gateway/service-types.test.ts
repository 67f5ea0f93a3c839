/**
 * `addOrder` by service type, against the sandbox's typed services (ids 5001–5012 whatever the
 * seed): the fields each type takes reach the supplier under its names and it accepts them, the
 * gateway's estimate is what it charges, and what a type does not take is refused before any `add`.
 */
import Big from 'big.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AddOrderDocument,
  AddOrderWithStatusDocument,
  DripFeedFlagsDocument,
  PlacedOrdersDocument,
  TypedServiceDocument,
  type AddOrderInput,
  type TypedServiceQuery,
} from '../generated/graphql.ts';
import { codes, startHarness, type Harness } from '../support/harness.ts';
import { DEMO_KEY } from '../support/keys.ts';

/** The sandbox's typed services (src/sandbox/smm/catalogue-data.ts, TYPED_SERVICES). */
const TYPED = {
  dripFeed: '5001',
  package: '5002',
  customComments: '5003',
  mentions: '5004',
  mentionsWithHashtags: '5005',
  mentionsHashtag: '5006',
  mentionsUserFollowers: '5007',
  mentionsMediaLikers: '5008',
  commentLikes: '5009',
  poll: '5010',
  invitesFromGroups: '5011',
  subscriptions: '5012',
} as const;

type Service = NonNullable<TypedServiceQuery['service']>;
type Fields = Omit<AddOrderInput, 'serviceId'>;
/** What a type's order sends; `units` charged at the rate per 1,000 (null: the rate, flat); `quantity` as the ledger shows it. */
type Case = (service: Service) => { input: Fields; units: number | null; quantity: number };

const LINK = 'https://instagram.com/p/typed';
const list = (count: number, word: string) => Array.from({ length: count }, (_, i) => `${word}${i + 1}`);
const withQuantity =
  (fields: Fields): Case =>
  (service) => ({
    input: { quantity: service.min, link: LINK, ...fields },
    units: service.min,
    quantity: service.min,
  });
const subscription = (service: Service) => ({ username: 'natgeo', min: service.min, max: service.min + 50, delay: 30 });

let h: Harness;
const services = new Map<string, Service>();

beforeAll(async () => {
  h = await startHarness({ sandbox: { partialShare: 0, cancelShare: 0 } });
  for (const id of Object.values(TYPED)) services.set(id, (await h.request(TypedServiceDocument, { id })).data!.service!);
});
afterAll(() => h.close());
beforeEach(() => h.sandbox.resetStats());

const place = (id: string, input: Fields) => h.request(AddOrderDocument, { input: { serviceId: id, ...input } });

describe('addOrder by service type', () => {
  const cases: Array<[string, string, Case]> = [
    [
      'a drip-feed Default',
      TYPED.dripFeed,
      (service) => ({ input: { quantity: service.min, runs: 3, interval: 15, link: LINK }, units: service.min * 3, quantity: service.min }),
    ],
    ['a Package', TYPED.package, () => ({ input: { link: LINK }, units: null, quantity: 1 })],
    [
      'a Custom Comments',
      TYPED.customComments,
      (service) => ({
        input: { comments: list(service.min, 'Lovely light, shot '), link: LINK },
        units: service.min,
        quantity: service.min,
      }),
    ],
    [
      'a Mentions',
      TYPED.mentions,
      (service) => ({ input: { usernames: list(service.min, 'user'), link: LINK }, units: service.min, quantity: service.min }),
    ],
    [
      'a Mentions with Hashtags',
      TYPED.mentionsWithHashtags,
      (service) => ({
        input: { usernames: list(service.min, 'user'), hashtags: ['#sunset', '#travel'], link: LINK },
        units: service.min,
        quantity: service.min,
      }),
    ],
    ['a Mentions Hashtag', TYPED.mentionsHashtag, withQuantity({ hashtag: '#sunset' })],
    ['a Mentions User Followers', TYPED.mentionsUserFollowers, withQuantity({ username: 'natgeo' })],
    ['a Mentions Media Likers', TYPED.mentionsMediaLikers, withQuantity({ media: 'https://instagram.com/p/media' })],
    ['a Comment Likes', TYPED.commentLikes, withQuantity({ username: 'commenter' })],
    ['a Poll', TYPED.poll, withQuantity({ answerNumber: 2, link: 'https://t.me/channel/12' })],
    ['an Invites from Groups', TYPED.invitesFromGroups, withQuantity({ groups: ['https://t.me/group_a', 'https://t.me/group_b'] })],
    [
      'a Subscriptions',
      TYPED.subscriptions,
      (service) => ({
        input: { subscription: { ...subscription(service), posts: 4, oldPosts: 2, expiry: '2031-12-31' } },
        units: (service.min + 50) * 4,
        quantity: (service.min + 50) * 4,
      }),
    ],
  ];

  it.each(cases)('places %s order with the fields of its type, charged as estimated', async (_name, id, order) => {
    const service = services.get(id)!;
    const { input, units, quantity } = order(service);
    const placed = await h.request(AddOrderWithStatusDocument, { input: { serviceId: id, ...input } });
    expect(placed.errors).toBeUndefined();
    expect(h.calls('add')).toBe(1);
    const estimate = units === null ? new Big(service.rate) : new Big(service.rate).times(units).div(1000);
    const charge = placed.data!.addOrder.charge!.amount;
    // The supplier keeps money to 4 places, half-up.
    expect(new Big(charge).eq(estimate.round(4, Big.roundHalfUp))).toBe(true);
    const ledger = (await h.request(PlacedOrdersDocument, { first: 1 })).data!.placedOrders.edges[0]!.node;
    expect(ledger.order?.id).toBe(placed.data!.addOrder.id);
    expect(new Big(ledger.estimatedCharge!.amount).eq(estimate)).toBe(true);
    expect(ledger.quantity).toBe(quantity);
  });

  it.each<[string, string, (service: Service) => Fields, string]>([
    ['a Default order without a quantity', TYPED.dripFeed, () => ({ link: LINK }), 'quantity'],
    ['a Custom Comments order without comments', TYPED.customComments, () => ({ link: LINK }), 'comments'],
    [
      'a Mentions with Hashtags order without hashtags',
      TYPED.mentionsWithHashtags,
      (s) => ({ usernames: list(s.min, 'u'), link: LINK }),
      'hashtags',
    ],
    ['a Poll order without answerNumber', TYPED.poll, (s) => ({ quantity: s.min, link: LINK }), 'answerNumber'],
    ['a Subscriptions order without subscription', TYPED.subscriptions, () => ({}), 'subscription'],
    ['comments on a Default service', TYPED.dripFeed, (s) => ({ quantity: s.min, comments: ['Nice'], link: LINK }), 'comments'],
    ['a quantity beside comments', TYPED.customComments, (s) => ({ quantity: s.min, comments: list(s.min, 'c'), link: LINK }), 'quantity'],
    ['fewer comments than the minimum', TYPED.customComments, (s) => ({ comments: list(s.min - 1, 'c'), link: LINK }), 'comments'],
    [
      'a comment holding a line break',
      TYPED.customComments,
      (s) => ({ comments: ['one\ntwo', ...list(s.min, 'c')], link: LINK }),
      'comments',
    ],
    ['a blank username in a list', TYPED.mentions, (s) => ({ usernames: [' ', ...list(s.min, 'u')], link: LINK }), 'usernames'],
    ['a poll answer of 0', TYPED.poll, (s) => ({ quantity: s.min, answerNumber: 0, link: LINK }), 'answerNumber'],
    ['runs without interval', TYPED.dripFeed, (s) => ({ quantity: s.min, runs: 2, link: LINK }), 'interval'],
    ['zero runs', TYPED.dripFeed, (s) => ({ quantity: s.min, runs: 0, interval: 10, link: LINK }), 'runs'],
    ['drip-feed on a Poll service', TYPED.poll, (s) => ({ quantity: s.min, answerNumber: 1, runs: 2, interval: 10, link: LINK }), 'runs'],
    ['a link on a Subscriptions order', TYPED.subscriptions, (s) => ({ subscription: subscription(s), link: LINK }), 'link'],
    [
      'a subscription delay the family does not allow',
      TYPED.subscriptions,
      (s) => ({ subscription: { ...subscription(s), delay: 7 } }),
      'subscription.delay',
    ],
    [
      'a subscription min above its max',
      TYPED.subscriptions,
      (s) => ({ subscription: { ...subscription(s), min: s.min + 60 } }),
      'subscription.min',
    ],
    [
      'a subscription max above the service maximum',
      TYPED.subscriptions,
      (s) => ({ subscription: { ...subscription(s), max: s.max + 1 } }),
      'subscription.max',
    ],
    [
      'a subscription expiry that is no day',
      TYPED.subscriptions,
      (s) => ({ subscription: { ...subscription(s), expiry: '2031-02-30' } }),
      'subscription.expiry',
    ],
  ])('refuses %s, naming the field, with no supplier add', async (_name, id, fields, field) => {
    const response = await place(id, fields(services.get(id)!));
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions!.field).toBe(field);
    expect(h.calls('add')).toBe(0);
  });

  it('refuses drip-feed on a Default service the supplier does not list with dripfeed', async () => {
    const { data } = await h.request(DripFeedFlagsDocument, { category: 'Instagram' });
    const plain = data!.services.edges.map((edge) => edge.node).find((node) => node.type === 'Default' && !node.dripfeed)!;
    const response = await place(plain.id, { quantity: plain.min, runs: 2, interval: 10, link: LINK });
    expect(codes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions!.field).toBe('runs');
    expect(h.calls('add')).toBe(0);
  });

  it('places one typed order for an idempotency key sent twice, and refuses the key with other comments', async () => {
    const { min } = services.get(TYPED.customComments)!;
    const input = { comments: list(min, 'Same '), link: LINK, idempotencyKey: 'typed-once' };
    const first = await place(TYPED.customComments, input);
    const again = await place(TYPED.customComments, input);
    expect(again.data!.addOrder.id).toBe(first.data!.addOrder.id);
    const changed = await place(TYPED.customComments, { ...input, comments: list(min, 'Other ') });
    expect(codes(changed)).toEqual(['BAD_USER_INPUT']);
    expect(h.calls('add')).toBe(1);
  });
});

describe('Service.dripfeed', () => {
  it("is the supplier's dripfeed flag of each service, true and false", async () => {
    const wire = await fetch(h.sandbox.url, {
      method: 'POST',
      body: new URLSearchParams({ key: DEMO_KEY, action: 'services', category: 'Instagram' }),
    });
    const listed = ((await wire.json()) as { services: Array<{ service: number; dripfeed: boolean }> }).services;
    const { data } = await h.request(DripFeedFlagsDocument, { category: 'Instagram' });
    const flags = data!.services.edges.map(({ node }) => [Number(node.id), node.dripfeed]);
    expect(flags).toEqual(listed.map((service) => [service.service, service.dripfeed]));
    expect(new Set(flags.map(([, flag]) => flag))).toEqual(new Set([true, false]));
    expect(services.get(TYPED.dripFeed)!.dripfeed).toBe(true);
  });

  it('is false for every service of a supplier that does not send it', async () => {
    const basic = await startHarness({ sandbox: { api: 'basic' } });
    try {
      const { data } = await basic.request(DripFeedFlagsDocument, { category: 'Instagram' });
      const flags = data!.services.edges.map(({ node }) => node.dripfeed);
      expect(flags.length).toBeGreaterThan(0);
      expect(flags.every((flag) => !flag)).toBe(true);
    } finally {
      await basic.close();
    }
  });
});
