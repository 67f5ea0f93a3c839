import type { Context } from '../context.ts';
import { GatewayError, badInput } from '../datasources/errors.ts';
import { ensureCovers, times } from '../datasources/money.ts';
import { FINAL_SMS_STATUSES, type NewSmsOrder, type SmsOrderState, type SmsProject as SmsProjectShape } from '../datasources/types.ts';
import { builder } from './builder.ts';
import { idempotent } from './idempotency.ts';
import { Money } from './scalars.ts';
import { optionalText, supplierId } from './validate.ts';

/** An SMS order known by id; what `add_sms` already said is used before asking `sms_status`. */
export interface SmsOrderRef {
  id: string;
  known?: SmsOrderState;
}

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

const SmsCountry = builder.objectRef<{ code: string; name: string }>('SmsCountry').implement({
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

async function current<K extends keyof SmsOrderState>(order: SmsOrderRef, ctx: Context, field: K) {
  return order.known?.[field] ?? (await ctx.loaders.smsStatus.load(order.id))[field];
}

export const SmsOrder = builder.objectRef<SmsOrderRef>('SmsOrder').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    phone: t.string({ nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'phone') }),
    country: t.string({ nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'country') }),
    status: t.field({ type: SmsOrderStatus, resolve: (order, _args, ctx) => current(order, ctx, 'status') }),
    rawStatus: t.string({ resolve: (order, _args, ctx) => current(order, ctx, 'rawStatus') }),
    code: t.string({ nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'code') }),
    smsContent: t.string({
      nullable: true,
      resolve: async (order, _args, ctx) => {
        const content = await current(order, ctx, 'smsContent');
        if (content !== null || (await current(order, ctx, 'code')) === null) return content;
        return (await ctx.loaders.smsCode.load(order.id)).smsContent;
      },
    }),
    charge: t.field({ type: Money, nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'charge') }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (order, _args, ctx) => current(order, ctx, 'expiresAt') }),
    isFinal: t.boolean({
      description: 'True once a code has arrived or the order was canceled or expired.',
      resolve: async (order, _args, ctx) => {
        const status = await current(order, ctx, 'status');
        return FINAL_SMS_STATUSES.has(status) || (await current(order, ctx, 'code')) !== null;
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

async function rentNumbers(ctx: Context, order: NewSmsOrder): Promise<SmsOrderState[]> {
  const [projects, balance] = await Promise.all([ctx.supplier.smsProjects(), ctx.loaders.balance()]);
  const project = projects.find((candidate) => candidate.id === order.projectId);
  if (!project) throw new GatewayError('NOT_FOUND', `SMS project ${order.projectId} not found.`, { extensions: { field: 'projectId' } });
  if (order.country && order.country !== project.countryCode) {
    throw badInput(`SMS project ${project.id} is for country ${project.countryCode}, not ${order.country}.`, { field: 'country' });
  }
  const estimate = times(project.price, order.quantity);
  ensureCovers(balance, estimate, 'The numbers cost');
  try {
    return await ctx.supplier.addSms(order, { amount: project.price, currency: balance.currency });
  } finally {
    ctx.loaders.spent();
  }
}

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
      const id = supplierId(args.id, 'id');
      return { id, known: await ctx.loaders.smsStatus.load(id) };
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
      const placed = await idempotent(ctx, 'addSmsOrder', input.idempotencyKey, order, () => rentNumbers(ctx, order));
      return placed.map((known) => ({ id: known.id, known }));
    },
  }),
);
