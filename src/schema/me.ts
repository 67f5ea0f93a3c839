import type { Identity } from '../auth/authenticator.ts';
import { scopesOf, unauthenticated } from '../auth/scopes.ts';
import { spendLimitOf, type SpendLimitView } from '../placement/spend-caps.ts';
import { builder } from './builder.ts';

type Caller = Extract<Identity, { ok: true }>;

const SpendLimit = builder.objectRef<SpendLimitView>('SpendLimit').implement({
  description: "A signed-in customer's spend limit for the day (UTC), in the account's currency.",
  fields: (t) => ({
    limit: t.field({ type: 'Decimal', description: 'What the customer may spend a day.', resolve: (view) => view.limit }),
    spent: t.field({
      type: 'Decimal',
      description: 'Spent today: the charges of its placements, or their estimates until the supplier says.',
      resolve: (view) => view.spent,
    }),
    remaining: t.field({ type: 'Decimal', description: 'What it may still spend today.', resolve: (view) => view.remaining }),
    resetsAt: t.field({ type: 'DateTime', description: 'When the day ends and nothing is spent again.', resolve: (view) => view.resetsAt }),
  }),
});

const Me = builder.objectRef<Caller>('Me').implement({
  description: 'The caller, as the gateway knows it.',
  fields: (t) => ({
    caller: t.string({
      description:
        'Who owns what this caller places: `customer:<sub>` for a customer signed in with the identity provider, `token:<name>` for a gateway token, `anonymous` or `public` without credentials, a hash of the key in pass-through mode.',
      resolve: (caller) => caller.caller,
    }),
    scopes: t.stringList({
      description: 'What the caller may do: `catalogue:read`, `orders:read`, `orders:place`, `sms:rent`, `account:read`.',
      resolve: (caller) => scopesOf(caller),
    }),
    spendLimit: t.field({
      type: SpendLimit,
      nullable: true,
      description: 'The spend limit of a signed-in customer (SPEND_LIMIT_PER_DAY or its own); null when none applies.',
      resolve: (caller, _args, ctx) => spendLimitOf(ctx.runtime.state.spends, caller, ctx.runtime.config.spendLimitPerDay),
    }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: "When a signed-in customer's token expires; null for other callers.",
      resolve: (caller) => (caller.customer ? new Date(caller.customer.expiresAt) : null),
    }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: Me,
    description: 'Who is calling, what it may do, and what it may still spend. No supplier call. Errors: UNAUTHENTICATED.',
    resolve: (_root, _args, ctx) => {
      if (!ctx.identity.ok) throw unauthenticated(ctx.identity);
      return ctx.identity;
    },
  }),
);
