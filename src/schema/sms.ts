import type { Context } from '../context.ts';
import { badInput } from '../datasources/errors.ts';
import { addSmsOrder } from '../datasources/placement.ts';
import { type StateRef, current, isFinalSms, smsMessage } from '../datasources/states.ts';
import type { NewSmsOrder, SmsCountry as SmsCountryShape, SmsOrderState, SmsProject as SmsProjectShape } from '../datasources/types.ts';
import { watchSms } from '../subscriptions/watch.ts';
import { Money } from './balance.ts';
import { builder } from './builder.ts';
import { optionalText, supplierId } from './validate.ts';

const SmsOrderStatus = builder.enumType('SmsOrderStatus', {
  values: {
    ACTIVE: {},
    WAITING: {},
    CODE_RECEIVED: {},
    COMPLETED: {},
    CANCELED: {},
    EXPIRED: {},
    UNKNOWN: { description: 'A status string the gateway does not know; see rawStatus.' },
  } as const,
});

const SmsProject = builder.objectRef<SmsProjectShape>('SmsProject').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    price: t.field({ type: 'Decimal', resolve: (project) => project.price }),
    countryCode: t.exposeString('countryCode'),
    countryName: t.exposeString('countryName', { nullable: true }),
  }),
});

const SmsCountry = builder.objectRef<SmsCountryShape>('SmsCountry').implement({
  fields: (t) => ({
    code: t.exposeString('code'),
    name: t.exposeString('name'),
    projects: t.field({
      type: [SmsProject],
      resolve: async (country, _args, ctx) =>
        (await ctx.supplier.smsProjects()).filter((project) => project.countryCode === country.code),
    }),
  }),
});

const field = <K extends keyof SmsOrderState>(order: StateRef<SmsOrderState>, ctx: Context, name: K) =>
  current(order, name, ctx.loaders.smsStatus);

const known = (state: SmsOrderState): StateRef<SmsOrderState> => ({ id: state.id, known: state });

export const SmsOrder = builder.objectRef<StateRef<SmsOrderState>>('SmsOrder').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    phone: t.string({ nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'phone') }),
    country: t.string({ nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'country') }),
    status: t.field({ type: SmsOrderStatus, resolve: (order, _args, ctx) => field(order, ctx, 'status') }),
    rawStatus: t.string({ resolve: (order, _args, ctx) => field(order, ctx, 'rawStatus') }),
    code: t.string({ nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'code') }),
    smsContent: t.string({
      nullable: true,
      resolve: async (order, _args, ctx) => {
        const [code, smsContent] = await Promise.all([field(order, ctx, 'code'), field(order, ctx, 'smsContent')]);
        return smsMessage({ id: order.id, code, smsContent }, ctx.loaders);
      },
    }),
    charge: t.field({ type: Money, nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'charge') }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (order, _args, ctx) => field(order, ctx, 'expiresAt') }),
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
  fields: (t) => ({
    projectId: t.id({ required: true }),
    quantity: t.int({ defaultValue: 1 }),
    country: t.string(),
    phone: t.string(),
    idempotencyKey: t.string({
      description: 'Repeating a mutation with the same key returns the first result and rents nothing new.',
    }),
  }),
});

builder.queryFields((t) => ({
  smsCountries: t.field({ type: [SmsCountry], resolve: (_root, _args, ctx) => ctx.supplier.smsCountries() }),
  smsProjects: t.field({
    type: [SmsProject],
    args: { country: t.arg.string() },
    resolve: (_root, args, ctx) => ctx.supplier.smsProjects(optionalText(args.country, 'country', 8)?.toLowerCase()),
  }),
  smsOrder: t.field({
    type: SmsOrder,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      return known(await ctx.loaders.smsStatus.load(supplierId(args.id, 'id')));
    },
  }),
}));

builder.mutationField('addSmsOrder', (t) =>
  t.field({
    type: [SmsOrder],
    args: { input: t.arg({ type: AddSmsOrderInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const quantity = input.quantity ?? 1;
      if (quantity < 1 || quantity > 10) throw badInput(`quantity must be from 1 to 10, got ${quantity}.`, { field: 'quantity' });
      const order: NewSmsOrder = {
        projectId: supplierId(input.projectId, 'projectId'),
        quantity,
        country: optionalText(input.country, 'country', 8)?.toLowerCase(),
        phone: optionalText(input.phone, 'phone', 32),
      };
      const placed = await addSmsOrder(ctx, order, input.idempotencyKey);
      return placed.map((state) => ({ id: state.id, known: state, partial: true }));
    },
  }),
);

builder.subscriptionField('smsCode', (t) =>
  t.field({
    type: SmsOrder,
    description: 'The SMS order now, then each change, completing once a code arrives or the order ends.',
    args: { orderId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => watchSms(ctx, supplierId(args.orderId, 'orderId')),
    resolve: known,
  }),
);
