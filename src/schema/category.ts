import type { Category as CategoryShape } from '../supplier/types.ts';
import { builder } from './builder.ts';
import { ServiceConnection, serviceConnectionArgs, servicePage } from './service.ts';
import { MAX_NAME, optionalText } from './validate.ts';

interface SubcategoryShape {
  name: string;
  category: CategoryShape;
}

const Category = builder.objectRef<CategoryShape>('Category');
const Subcategory = builder.objectRef<SubcategoryShape>('Subcategory');

Category.implement({
  description: 'A top-level group of the catalogue, such as "Instagram" or "Email Accounts", as the supplier lists it.',
  fields: (t) => ({
    name: t.exposeString('name', {
      description: 'The name, as the supplier spells it; `category(name:)` and `services(category:)` take it.',
    }),
    subcategories: t.field({
      type: [Subcategory],
      description: 'The subcategories the supplier lists under it, in its order; empty when it has none.',
      resolve: (category) => category.subcategories.map((name) => ({ name, category })),
    }),
    services: t.field({
      type: ServiceConnection,
      description:
        'The services of this category, a page at a time (one cached supplier read per category). Errors: BAD_USER_INPUT (bad `first` or `after`).',
      args: serviceConnectionArgs,
      resolve: (category, args, ctx) => servicePage(ctx, { category: category.name }, args),
    }),
  }),
});

Subcategory.implement({
  description: 'A group within a category, such as "Followers" under "Instagram".',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name, as the supplier spells it; `services(subcategory:)` takes it.' }),
    category: t.field({ type: Category, description: 'The category it belongs to.', resolve: (subcategory) => subcategory.category }),
    services: t.field({
      type: ServiceConnection,
      description:
        'The services of this subcategory, a page at a time (one cached supplier read per subcategory). Errors: BAD_USER_INPUT (bad `first` or `after`).',
      args: serviceConnectionArgs,
      resolve: (subcategory, args, ctx) => servicePage(ctx, { category: subcategory.category.name, subcategory: subcategory.name }, args),
    }),
  }),
});

builder.queryFields((t) => ({
  categories: t.field({
    authScopes: { 'catalogue:read': true },
    type: [Category],
    description:
      'Every category of the catalogue with its subcategories, cached for `CACHE_TTL_CATEGORIES_S` and served stale (flagged in `extensions.stale`) while the supplier fails. Errors: UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE (supplier down and nothing cached).',
    resolve: (_root, _args, ctx) => ctx.supplier.categories(),
  }),
  category: t.field({
    authScopes: { 'catalogue:read': true },
    type: Category,
    nullable: true,
    description:
      'One category by name, ignoring case; null when there is none of that name. Errors: BAD_USER_INPUT (name over 128 characters), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: { name: t.arg.string({ required: true, description: 'The category name, as `categories` lists it (case does not matter).' }) },
    resolve: async (_root, args, ctx) => {
      const wanted = (optionalText(args.name, 'name', MAX_NAME) ?? '').toLowerCase();
      const categories = await ctx.supplier.categories();
      return categories.find((category) => category.name.toLowerCase() === wanted) ?? null;
    },
  }),
}));
