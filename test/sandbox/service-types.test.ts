import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.ts';
import { DEMO_KEY } from '../support/keys.ts';
import { allServices, errorOf, money, orderStatus, placeOrder, startSandbox, type Fields } from '../support/sandbox.ts';
import { ofType, serviceWhere, steady, type FamilyService } from './family.ts';

const link = 'https://instagram.com/p/1';
const perThousand = (rate: string, units: number) => new Big(rate).times(units).div(1000).round(4, Big.roundHalfUp);

async function addOf(sandbox: Sandbox, type: string, fields: Fields) {
  const service = await ofType(sandbox, type);
  const add = (extra: Fields = {}) => errorOf(sandbox, { key: DEMO_KEY, action: 'add', service: service.service, ...fields, ...extra });
  return { service, add, place: (extra: Fields = {}) => placeOrder(sandbox, { service: service.service, ...fields, ...extra }) };
}

/** Each type with fields that place an order, the fields it requires and what each missing one says. */
const TYPES: { type: string; fields: Fields; required: [string, string][] }[] = [
  { type: 'Package', fields: { link }, required: [['link', 'Link is required']] },
  { type: 'Custom Comments', fields: { link, comments: 'a\nb\nc\nd\ne' }, required: [['comments', 'Comments are required']] },
  {
    type: 'Mentions',
    fields: { link, usernames: 'u1\nu2\nu3\nu4\nu5\nu6\nu7\nu8\nu9\nu10' },
    required: [['usernames', 'Usernames are required']],
  },
  {
    type: 'Mentions with Hashtags',
    fields: { link, usernames: Array.from({ length: 10 }, (_, index) => `u${index}`).join('\n'), hashtags: '#a\n#b' },
    required: [
      ['usernames', 'Usernames are required'],
      ['hashtags', 'Hashtags are required'],
    ],
  },
  { type: 'Mentions Hashtag', fields: { link, quantity: 100, hashtag: '#sun' }, required: [['hashtag', 'Hashtag is required']] },
  { type: 'Mentions User Followers', fields: { link, quantity: 100, username: 'nasa' }, required: [['username', 'Username is required']] },
  {
    type: 'Mentions Media Likers',
    fields: { link, quantity: 100, media: 'https://instagram.com/p/2' },
    required: [['media', 'Media is required']],
  },
  { type: 'Comment Likes', fields: { link, quantity: 20, username: 'nasa' }, required: [['username', 'Username is required']] },
  { type: 'Poll', fields: { link, quantity: 50, answer_number: 2 }, required: [['answer_number', 'Answer number is required']] },
  { type: 'Invites from Groups', fields: { link, quantity: 100, groups: 'g1\ng2' }, required: [['groups', 'Groups are required']] },
  {
    type: 'Subscriptions',
    fields: { username: 'nasa', min: 50, max: 100, posts: 2, delay: 30, expiry: '31/12/2030' },
    required: [
      ['username', 'Username is required'],
      ['min', 'Min is required'],
      ['max', 'Max is required'],
      ['delay', 'Delay is required'],
    ],
  },
];

describe('services of the API v2 family', () => {
  it('lists one service of each add type after the seeded ones, and a dripfeed flag on every service', async () => {
    const sandbox = await startSandbox();
    const services = (await allServices(sandbox)) as FamilyService[];
    const typed = services.filter((service) => service.service >= 5001);
    expect(typed.map((service) => service.service)).toEqual(Array.from({ length: 12 }, (_, index) => 5001 + index));
    expect(new Set(typed.map((service) => service.type))).toEqual(new Set(['Default', ...TYPES.map((entry) => entry.type)]));
    expect(services.every((service) => typeof service.dripfeed === 'boolean')).toBe(true);
    const seeded = services.filter((service) => service.service < 5001 && service.dripfeed);
    expect(seeded.length).toBeGreaterThan(20);
    expect(seeded.every((service) => service.type === 'Default' && service.entityType === 'smm')).toBe(true);
  });
});

describe('add by service type', () => {
  for (const { type, fields, required } of TYPES) {
    it(`places a ${type} order and names each missing field`, async () => {
      const sandbox = await startSandbox();
      const { add, place } = await addOf(sandbox, type, fields);
      for (const [field, error] of required) expect(await add({ [field]: '' })).toBe(error);
      expect(await place()).toBe(100001);
    });
  }

  it('charges a package its rate, whatever the quantity', async () => {
    const sandbox = await startSandbox();
    const { service, place } = await addOf(sandbox, 'Package', { link });
    const order = await place({ quantity: 500 });
    expect(await orderStatus(sandbox, order)).toMatchObject({ charge: service.rate, remains: 1 });
  });

  it('counts one unit per custom comment and per mentioned user, within the service limits', async () => {
    const sandbox = await startSandbox();
    const comments = await addOf(sandbox, 'Custom Comments', { link, quantity: 999 });
    const order = await comments.place({ comments: 'nice\n\n great \r\nwow\nyes\nok\n' });
    expect(await orderStatus(sandbox, order)).toMatchObject({ charge: money(perThousand(comments.service.rate, 5)), remains: 5 });
    expect(await comments.add({ comments: 'too\nfew' })).toBe(`Quantity must be between 5 and ${comments.service.max}`);
    const mentions = await addOf(sandbox, 'Mentions', { link });
    const mentioned = await mentions.place({ usernames: Array.from({ length: 12 }, (_, index) => `user${index}`).join('\n') });
    expect(await orderStatus(sandbox, mentioned)).toMatchObject({ charge: money(perThousand(mentions.service.rate, 12)), remains: 12 });
  });

  it('checks a poll answer and a subscription’s min, max, delay and expiry', async () => {
    const sandbox = await startSandbox();
    const poll = await addOf(sandbox, 'Poll', { link, quantity: 50 });
    expect(await poll.add({ answer_number: 'first' })).toBe('Incorrect answer number');
    const { service, add, place } = await addOf(sandbox, 'Subscriptions', TYPES.at(-1)?.fields ?? {});
    expect(await add({ min: 101 })).toBe('Min must not be greater than max');
    expect(await add({ max: service.max + 1 })).toBe(`Quantity must be between ${service.min} and ${service.max}`);
    expect(await add({ delay: 7 })).toBe('Incorrect delay');
    expect(await add({ expiry: '31/02/2030' })).toBe('Incorrect expiry');
    expect(await add({ posts: 0 })).toBe('Incorrect posts');
    const order = await place();
    expect(await orderStatus(sandbox, order)).toMatchObject({ charge: money(perThousand(service.rate, 200)), remains: 200 });
  });
});

describe('drip-feed', () => {
  it('charges quantity x runs and delivers one run at the end of each interval', async () => {
    const sandbox = await startSandbox(steady);
    const service = await serviceWhere(sandbox, (candidate) => candidate.service >= 5001 && candidate.dripfeed === true);
    const order = await placeOrder(sandbox, { service: service.service, quantity: 100, link, runs: 3, interval: 10 });
    expect(await orderStatus(sandbox, order)).toMatchObject({
      status: 'Pending',
      remains: 300,
      charge: money(perThousand(service.rate, 300)),
    });
    sandbox.advance(30 + 599);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'In progress', remains: 300 });
    sandbox.advance(1);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'In progress', remains: 200 });
    sandbox.advance(600);
    expect((await orderStatus(sandbox, order)).remains).toBe(100);
    sandbox.advance(600);
    expect(await orderStatus(sandbox, order)).toMatchObject({ status: 'Completed', remains: 0 });
  });

  it('takes runs only on a dripfeed service, with a whole interval', async () => {
    const sandbox = await startSandbox();
    const drip = await serviceWhere(sandbox, (candidate) => candidate.dripfeed === true);
    const plain = await serviceWhere(sandbox, (candidate) => candidate.dripfeed === false && candidate.entityType === 'smm');
    const add = (service: FamilyService, fields: Fields) =>
      errorOf(sandbox, { key: DEMO_KEY, action: 'add', service: service.service, quantity: service.min, link, ...fields });
    expect(await add(plain, { runs: 2, interval: 5 })).toBe('Drip-feed is not available for this service');
    expect(await add(drip, { runs: 2 })).toBe('Interval is required');
    expect(await add(drip, { runs: 0, interval: 5 })).toBe('Incorrect runs');
    expect(await add(drip, { runs: 2, interval: 'soon' })).toBe('Incorrect interval');
    expect(await add(drip, { runs: 2, interval: 5 })).toBeUndefined();
  });
});
