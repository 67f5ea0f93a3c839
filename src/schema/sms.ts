import { badInput } from '../errors.ts';
import type { Context } from '../graphql/context.ts';
import { addSmsOrder } from '../placement/placement.ts';
import { watchSms } from '../subscriptions/watch.ts';
import { current, isFinalSms, smsMessage, type StateRef } from '../supplier/states.ts';
import type { NewSmsOrder, SmsCountry as SmsCountryShape, SmsOrderState, SmsProject as SmsProjectShape } from '../supplier/types.ts';
import { Money } from './balance.ts';
import { builder } from './builder.ts';
import { onBehalfOf, optionalText, orderId, supplierId } from './validate.ts';

export const SmsOrderStatus = builder.enumType('SmsOrderStatus', {
  description: "Where an SMS rental stands, from the supplier's status string. CODE_RECEIVED, COMPLETED, CANCELED and EXPIRED are final.",
  values: {
    ACTIVE: { description: 'The number is rented and can receive an SMS.' },
    WAITING: { description: 'The number is rented and no SMS has arrived yet.' },
    CODE_RECEIVED: { description: 'An SMS arrived: `code` and `smsContent` hold it. Final.' },
    COMPLETED: { description: 'The rental ended with its code delivered. Final.' },
    CANCELED: { description: 'Canceled before a code arrived, and refunded. Final.' },
    EXPIRED: { description: 'The rental time (`expiresAt`) passed without a code. Final.' },
    UNKNOWN: { description: 'A status string the gateway does not know; see rawStatus.' },
  } as const,
});

const SmsProject = builder.objectRef<SmsProjectShape>('SmsProject').implement({
  description: 'A site or app whose verification SMS a rented number receives (such as "OpenAI / ChatGPT"), in one country, at one price.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The project id `addSmsOrder` takes as `projectId`.' }),
    name: t.exposeString('name', { description: 'The site or app, as the supplier names it.' }),
    price: t.field({
      authScopes: { 'account:read': true },
      type: 'Decimal',
      description: 'The price of one number, in the account currency.',
      resolve: (project) => project.price,
    }),
    countryCode: t.exposeString('countryCode', {
      description: 'The country of the numbers, a lower-case code such as "us" (`SmsCountry.code`).',
    }),
    countryName: t.exposeString('countryName', {
      nullable: true,
      description: 'The country name; null when the supplier does not give it.',
    }),
  }),
});

const SmsCountry = builder.objectRef<SmsCountryShape>('SmsCountry').implement({
  description: 'A country the supplier rents numbers in.',
  fields: (t) => ({
    code: t.exposeString('code', {
      description: 'A lower-case country code such as "us", as `smsProjects(country:)` and `addSmsOrder` take it.',
    }),
    name: t.exposeString('name', { description: 'The country name, such as "United States".' }),
    projects: t.field({
      type: [SmsProject],
      description: 'The projects with numbers in this country (one cached `sms_projects` read shared by every country).',
      resolve: async (country, _args, ctx) => (await ctx.supplier.smsProjects()).filter((project) => project.countryCode === country.code),
    }),
  }),
});

const field = <K extends keyof SmsOrderState>(order: StateRef<SmsOrderState>, ctx: Context, name: K) =>
  current(order, name, ctx.loaders.smsStatus);

const known = (state: SmsOrderState): StateRef<SmsOrderState> => ({ id: state.id, known: state });

export const SmsOrder = builder.objectRef<StateRef<SmsOrderState>>('SmsOrder').implement({
  description:
    "One rented number and the SMS it receives, with the supplier's live status: read once per request when a status field is selected, never cached across requests.",
  fields: (t) => ({
    id: t.exposeID('id', { description: "The supplier's SMS order id, which `smsOrder` and `smsCode` take." }),
    phone: t.string({
      nullable: true,
      description: 'The rented number in international form, such as "+1234567890"; null when the supplier does not say.',
      resolve: (order, _args, ctx) => field(order, ctx, 'phone'),
    }),
    country: t.string({
      nullable: true,
      description: 'The country code of the number, such as "us"; null when the supplier does not say.',
      resolve: (order, _args, ctx) => field(order, ctx, 'country'),
    }),
    status: t.field({
      type: SmsOrderStatus,
      description: 'Where the rental stands.',
      resolve: (order, _args, ctx) => field(order, ctx, 'status'),
    }),
    rawStatus: t.string({
      description: 'The status string exactly as the supplier sent it.',
      resolve: (order, _args, ctx) => field(order, ctx, 'rawStatus'),
    }),
    code: t.string({
      nullable: true,
      description: 'The verification code from the SMS; null until one arrives.',
      resolve: (order, _args, ctx) => field(order, ctx, 'code'),
    }),
    smsContent: t.string({
      nullable: true,
      description: 'The whole text of the SMS; null until one arrives.',
      resolve: async (order, _args, ctx) => {
        const [code, smsContent] = await Promise.all([field(order, ctx, 'code'), field(order, ctx, 'smsContent')]);
        return smsMessage({ id: order.id, code, smsContent }, ctx.loaders);
      },
    }),
    charge: t.field({
      authScopes: { 'account:read': true },
      type: Money,
      nullable: true,
      description: 'What the supplier charged for the number; null when the supplier does not say.',
      resolve: (order, _args, ctx) => field(order, ctx, 'charge'),
    }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the rental ends if no SMS arrives; null when the supplier does not say.',
      resolve: (order, _args, ctx) => field(order, ctx, 'expiresAt'),
    }),
    isFinal: t.boolean({
      description: 'True once a code has arrived or the order was canceled or expired.',
      resolve: async (order, _args, ctx) => {
        const [status, code] = await Promise.all([field(order, ctx, 'status'), field(order, ctx, 'code')]);
        return isFinalSms({ status, code });
      },
    }),
  }),
});

const AddSmsOrderInput = builder.inputType('AddSmsOrderInput', {
  description: 'Numbers to rent for one project.',
  fields: (t) => ({
    projectId: t.id({ required: true, description: 'The project whose SMS the numbers receive (`SmsProject.id`).' }),
    quantity: t.int({ defaultValue: 1, description: 'How many numbers, 1 to 10.' }),
    country: t.string({ description: 'The country code of the numbers, such as "us"; the supplier picks when omitted.' }),
    phone: t.string({ description: 'A number rented before, to rent again (for a second code from the same site).' }),
    onBehalfOf: t.string({
      description:
        "A backend's placement for a signed-in customer: the identity provider's subject (`sub`) of the customer, who then owns it (sees, lists and watches it with its own token); the backend keeps reading it, and the customer's spend limit does not apply. Only for gateway-token callers (`GATEWAY_TOKENS`); others get FORBIDDEN.",
    }),
    idempotencyKey: t.string({
      description:
        'Repeating a mutation with the same key returns the first result and rents nothing new. Per caller, kept `IDEMPOTENCY_TTL_S` (24 h); up to 255 characters. Reusing it with different input is BAD_USER_INPUT.',
    }),
  }),
});

builder.queryFields((t) => ({
  smsCountries: t.field({
    authScopes: { 'catalogue:read': true },
    type: [SmsCountry],
    description:
      'Every country the supplier rents numbers in, cached for `CACHE_TTL_SMS_COUNTRIES_S`. Errors: UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    resolve: (_root, _args, ctx) => ctx.supplier.smsCountries(),
  }),
  smsProjects: t.field({
    authScopes: { 'catalogue:read': true },
    type: [SmsProject],
    description:
      'The projects numbers can be rented for, with their prices, cached for `CACHE_TTL_SMS_PROJECTS_S`. Errors: BAD_USER_INPUT (country over 8 characters), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: {
      country: t.arg.string({ description: 'Only projects in this country (`SmsCountry.code`, any case); every country when omitted.' }),
    },
    resolve: (_root, args, ctx) => ctx.supplier.smsProjects(optionalText(args.country, 'country', 8)?.toLowerCase()),
  }),
  smsOrder: t.field({
    authScopes: { 'orders:read': true },
    type: SmsOrder,
    nullable: true,
    description:
      'One SMS order by id, with its live status (one supplier call). Errors: NOT_FOUND (no such order, or in server-key mode one another caller rented), BAD_USER_INPUT (malformed id), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: { id: t.arg.id({ required: true, description: 'The SMS order id, as `addSmsOrder` returned it.' }) },
    resolve: async (_root, args, ctx) => {
      return known(await ctx.loaders.smsStatus.load(orderId(args.id, 'id')));
    },
  }),
}));

builder.mutationField('addSmsOrder', (t) =>
  t.field({
    authScopes: { 'sms:rent': true },
    type: [SmsOrder],
    description:
      'Rents numbers and charges the balance: one SmsOrder per number. Checked first, before anything is spent: quantity 1..10 and a balance that covers the price. Errors: BAD_USER_INPUT, NOT_FOUND (no such project), INSUFFICIENT_BALANCE, UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE (with `orderMayExist: true` when the supplier may have rented them: retry with the same `idempotencyKey`, or look in `placedSmsOrders`), UPSTREAM_ERROR.',
    args: { input: t.arg({ type: AddSmsOrderInput, required: true, description: 'What to rent.' }) },
    resolve: async (_root, { input }, ctx) => {
      const quantity = input.quantity ?? 1;
      if (quantity < 1 || quantity > 10) throw badInput(`quantity must be from 1 to 10, got ${quantity}.`, { field: 'quantity' });
      const order: NewSmsOrder = {
        projectId: supplierId(input.projectId, 'projectId'),
        quantity,
        country: optionalText(input.country, 'country', 8)?.toLowerCase(),
        phone: optionalText(input.phone, 'phone', 32),
      };
      const placed = await addSmsOrder(ctx, order, { idempotencyKey: input.idempotencyKey, onBehalfOf: onBehalfOf(ctx, input.onBehalfOf) });
      return placed.map((state) => ({ id: state.id, known: state, partial: true }));
    },
  }),
);

builder.subscriptionField('smsCode', (t) =>
  t.field({
    authScopes: { 'orders:read': true },
    type: SmsOrder,
    description:
      'The SMS order now, then each change of the selected fields, completing once a code arrives or the rental ends; polled every `SMS_POLL_MS` without backing off. Errors (as a last payload, then completion): NOT_FOUND, BAD_USER_INPUT, UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: { orderId: t.arg.id({ required: true, description: 'The SMS order id.' }) },
    subscribe: (_root, args, ctx) => watchSms(ctx, orderId(args.orderId, 'orderId')),
    resolve: known,
  }),
);
