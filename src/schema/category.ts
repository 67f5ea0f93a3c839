import type { Category as CategoryShape } from '../datasources/types.ts';
import { builder } from './builder.ts';
import { MAX_NAME, optionalText } from './validate.ts';
import { ServiceConnection, serviceConnectionArgs, servicePage } from './service.ts';

interface SubcategoryShape {
  name: string;
  category: CategoryShape;
}

export const Category = builder.objectRef<CategoryShape>('Category');
const Subcategory = builder.objectRef<SubcategoryShape>('Subcategory');

Category.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    subcategories: t.field({
      type: [Subcategory],
      resolve: (category) => category.subcategories.map((name) => ({ name, category })),
    }),
    services: t.field({
      type: ServiceConnection,
      args: serviceConnectionArgs,
      resolve: (category, args, ctx) => servicePage(ctx, { category: category.name }, args),
    }),
  }),
});

Subcategory.implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    category: t.field({ type: Category, resolve: (subcategory) => subcategory.category }),
    services: t.field({
      type: ServiceConnection,
      args: serviceConnectionArgs,
      resolve: (subcategory, args, ctx) =>
        servicePage(ctx, { category: subcategory.category.name, subcategory: subcategory.name }, args),
    }),
  }),
});

builder.queryFields((t) => ({
  categories: t.field({ type: [Category], resolve: (_root, _args, ctx) => ctx.supplier.categories() }),
  category: t.field({
    type: Category,
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const wanted = (optionalText(args.name, 'name', MAX_NAME) ?? '').toLowerCase();
      const categories = await ctx.supplier.categories();
      return categories.find((category) => category.name.toLowerCase() === wanted) ?? null;
    },
  }),
}));
