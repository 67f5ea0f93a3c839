import type { Money as MoneyShape } from '../datasources/types.ts';
import { builder } from './builder.ts';

export const Money = builder.objectRef<MoneyShape>('Money').implement({
  fields: (t) => ({
    amount: t.field({ type: 'Decimal', resolve: (money) => money.amount }),
    currency: t.exposeString('currency'),
  }),
});

builder.queryField('balance', (t) =>
  t.field({ type: Money, resolve: (_root, _args, ctx) => ctx.loaders.balance() }),
);
