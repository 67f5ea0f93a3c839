import { builder } from './builder.ts';
import { Money } from './scalars.ts';

builder.queryField('balance', (t) =>
  t.field({ type: Money, resolve: (_root, _args, ctx) => ctx.loaders.balance() }),
);
