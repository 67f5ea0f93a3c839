import type { Context } from '../context.ts';
import type { Inventory as InventoryShape, Service as ServiceShape, ServiceFilter } from '../datasources/types.ts';
import { builder } from './builder.ts';
import { MAX_PAGE_SIZE, type Page, checkPageArgs, paginate } from './pagination.ts';
import { MAX_NAME, optionalText, supplierId } from './validate.ts';

export const EntityType = builder.enumType('EntityType', { values: ['SMM', 'PRODUCT'] as const });

const Inventory = builder.objectRef<InventoryShape>('Inventory').implement({
  description: "Live stock of a service, as the supplier's inventory action reports it.",
  fields: (t) => ({
    serviceId: t.exposeID('serviceId'),
    stock: t.exposeInt('stock'),
    available: t.exposeBoolean('available'),
    entityType: t.field({ type: EntityType, resolve: (inventory) => inventory.entityType }),
    autoDelivery: t.exposeBoolean('autoDelivery'),
  }),
});

export const Service = builder.objectRef<ServiceShape>('Service').implement({
  fields: (t) => ({
    id: t.exposeID('id', { description: "The supplier's service id." }),
    name: t.exposeString('name'),
    type: t.exposeString('type'),
    category: t.exposeString('category', {
      description: 'The category string the supplier gives the service (need not match a Category name).',
    }),
    rate: t.field({
      type: 'Decimal',
      description: 'Price per 1,000 units for SMM services, per unit for products, in the account currency.',
      resolve: (service) => service.rate,
    }),
    min: t.exposeInt('min'),
    max: t.exposeInt('max'),
    refill: t.exposeBoolean('refill'),
    cancel: t.exposeBoolean('cancel'),
    stock: t.exposeInt('stock', { description: 'Stock as of the cached catalogue; `inventory` asks the supplier live.' }),
    entityType: t.field({ type: EntityType, resolve: (service) => service.entityType }),
    autoDelivery: t.exposeBoolean('autoDelivery'),
    inventory: t.field({ type: Inventory, resolve: (service, _args, ctx) => ctx.loaders.inventory.load(service.id) }),
  }),
});

export const ServiceConnection = builder.connectionObject(
  {
    type: Service,
    name: 'ServiceConnection',
    fields: (t) => ({
      totalCount: t.int({ resolve: (page) => (page as unknown as Page<ServiceShape>).totalCount }),
    }),
  },
  { name: 'ServiceEdge' },
);

export const serviceConnectionArgs = builder.args((t) => ({
  first: t.int({ description: `Page size, 0 to ${MAX_PAGE_SIZE} (default 50).` }),
  after: t.string({ description: 'The endCursor of the previous page.' }),
}));

/** A page of the catalogue under one supplier filter: one `services` call per filter per TTL. */
export async function servicePage(ctx: Context, filter: ServiceFilter, args: { first?: number | null; after?: string | null }) {
  checkPageArgs(args);
  const { services } = await ctx.supplier.catalogue(filter);
  return paginate(services, args);
}

builder.queryFields((t) => ({
  services: t.field({
    type: ServiceConnection,
    description: 'Relay-style cursor pagination over the catalogue, optionally filtered.',
    args: {
      ...serviceConnectionArgs,
      category: t.arg.string(),
      subcategory: t.arg.string(),
    },
    resolve: (_root, args, ctx) =>
      servicePage(ctx, { category: optionalText(args.category, 'category', MAX_NAME), subcategory: optionalText(args.subcategory, 'subcategory', MAX_NAME) }, args),
  }),
  service: t.field({
    type: Service,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.loaders.service.load(supplierId(args.id, 'id')),
  }),
}));
