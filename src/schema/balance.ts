import type { Money as MoneyShape } from '../supplier/types.ts';
import { builder } from './builder.ts';

export const Money = builder.objectRef<MoneyShape>('Money').implement({
  description: 'An amount of money in one currency, exact to the digit the supplier gave.',
  fields: (t) => ({
    amount: t.field({
      type: 'Decimal',
      description: 'The amount as an exact decimal string, such as "12.5000". Add and compare it as a decimal, never as a float.',
      resolve: (money) => money.amount,
    }),
    currency: t.exposeString('currency', { description: 'The ISO 4217 code of the account currency, such as "USD".' }),
  }),
});

builder.queryField('balance', (t) =>
  t.field({
    authScopes: { 'account:read': true },
    type: Money,
    description:
      'The balance of the supplier account, read live (never cached across requests). Errors: UNAUTHENTICATED (no or rejected key), RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    resolve: (_root, _args, ctx) => ctx.loaders.balance(),
  }),
);
