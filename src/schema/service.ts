import type { Context } from '../graphql/context.ts';
import type { Inventory as InventoryShape, ServiceFilter, Service as ServiceShape } from '../supplier/types.ts';
import { builder } from './builder.ts';
import { checkPageArgs, MAX_PAGE_SIZE, paginate, type Page } from './pagination.ts';
import { MAX_NAME, optionalText, supplierId } from './validate.ts';

export const EntityType = builder.enumType('EntityType', {
  description: 'What a service sells, which decides how it is ordered and priced.',
  values: {
    SMM: { description: 'A social-media service (followers, likes, views): needs a `link`; `rate` is per 1,000 units.' },
    PRODUCT: { description: 'Goods such as accounts: `rate` is per unit, stock is limited, credentials arrive in `Order.accounts`.' },
  } as const,
});

const Inventory = builder.objectRef<InventoryShape>('Inventory').implement({
  description: "Live stock of a service, as the supplier's inventory action reports it.",
  fields: (t) => ({
    serviceId: t.exposeID('serviceId', { description: 'The service this stock is of.' }),
    stock: t.exposeInt('stock', { description: 'Units that can be ordered now.' }),
    available: t.exposeBoolean('available', { description: 'Whether the service can be ordered now.' }),
    entityType: t.field({ type: EntityType, description: 'What the service sells.', resolve: (inventory) => inventory.entityType }),
    autoDelivery: t.exposeBoolean('autoDelivery', {
      description: 'True when orders are fulfilled automatically; false when the supplier fulfils them by hand, which may take time.',
    }),
  }),
});

const Service = builder.objectRef<ServiceShape>('Service').implement({
  description: 'Something the supplier sells, as its catalogue lists it (cached for `CACHE_TTL_SERVICES_S`).',
  fields: (t) => ({
    id: t.exposeID('id', { description: "The supplier's service id." }),
    name: t.exposeString('name', { description: 'The name the supplier gives it, such as "Instagram Followers".' }),
    type: t.exposeString('type', { description: 'The supplier\'s service type, such as "Default"; passed on as it comes.' }),
    category: t.exposeString('category', {
      description: 'The category string the supplier gives the service (need not match a Category name).',
    }),
    rate: t.field({
      authScopes: { 'account:read': true },
      type: 'Decimal',
      description: 'Price per 1,000 units for SMM services, per unit for products, in the account currency.',
      resolve: (service) => service.rate,
    }),
    min: t.exposeInt('min', { description: 'The smallest `quantity` `addOrder` accepts for it.' }),
    max: t.exposeInt('max', { description: 'The largest `quantity` `addOrder` accepts for it.' }),
    refill: t.exposeBoolean('refill', {
      description: 'Whether the supplier refills drops (lost followers, say) during its refill period.',
    }),
    cancel: t.exposeBoolean('cancel', { description: 'Whether the supplier lets its orders be canceled.' }),
    dripfeed: t.boolean({
      description:
        '`addOrder` takes drip-feed `runs` and `interval` for it: the quantity delivered each run. False when the supplier does not say.',
      // A catalogue an instance of an earlier version cached in Redis has no such field.
      resolve: (service) => service.dripfeed ?? false,
    }),
    stock: t.exposeInt('stock', {
      nullable: true,
      description: 'Stock as of the cached catalogue; `inventory` asks the supplier live. Null when the supplier does not say.',
    }),
    entityType: t.field({
      type: EntityType,
      description: 'What the service sells; SMM when the supplier does not say.',
      resolve: (service) => service.entityType,
    }),
    autoDelivery: t.exposeBoolean('autoDelivery', {
      nullable: true,
      description:
        'True when orders are fulfilled automatically; false when the supplier fulfils them by hand, which may take time. Null when the supplier does not say.',
    }),
    inventory: t.field({
      type: Inventory,
      nullable: true,
      description:
        'Live stock, one supplier call per service (cached for `CACHE_TTL_INVENTORY_S`). Null when the supplier has no live inventory (no `inventory` action). Errors: NOT_FOUND, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
      resolve: (service, _args, ctx) => ctx.loaders.inventory.load(service.id),
    }),
  }),
});

export const ServiceConnection = builder.connectionObject(
  {
    type: Service,
    name: 'ServiceConnection',
    description: 'A page of services (Relay cursor connection).',
    fields: (t) => ({
      totalCount: t.int({
        description: 'How many services match the filter in all, across every page.',
        resolve: (page) => (page as unknown as Page<ServiceShape>).totalCount,
      }),
    }),
  },
  { name: 'ServiceEdge', description: 'A service with its position in the list.' },
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
    authScopes: { 'catalogue:read': true },
    type: ServiceConnection,
    description:
      'The catalogue a page at a time, optionally filtered; one supplier read per filter per `CACHE_TTL_SERVICES_S`, served stale (flagged in `extensions.stale`) while the supplier fails. Errors: BAD_USER_INPUT (bad `first`, `after` or filter), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: {
      ...serviceConnectionArgs,
      category: t.arg.string({
        description:
          'Only services of this category (a `Category.name`); the supplier filters, or the gateway when the supplier ignores the filter.',
      }),
      subcategory: t.arg.string({ description: 'Only services of this subcategory (a `Subcategory.name`), usually with `category`.' }),
    },
    resolve: (_root, args, ctx) =>
      servicePage(
        ctx,
        {
          category: optionalText(args.category, 'category', MAX_NAME),
          subcategory: optionalText(args.subcategory, 'subcategory', MAX_NAME),
        },
        args,
      ),
  }),
  service: t.field({
    authScopes: { 'catalogue:read': true },
    type: Service,
    nullable: true,
    description:
      'One service by id, from the cached catalogue; null when the catalogue has no such id. Errors: BAD_USER_INPUT (malformed id), UNAUTHENTICATED, RATE_LIMITED, UPSTREAM_UNAVAILABLE.',
    args: { id: t.arg.id({ required: true, description: 'The service id (`Service.id`).' }) },
    resolve: (_root, args, ctx) => ctx.loaders.service.load(supplierId(args.id, 'id')),
  }),
}));
