import { ERRORS, SupplierError } from '../errors.ts';
import { text, wholeNumber, type Fields, type Json } from '../http/form.ts';
import type { Account } from '../world/accounts.ts';
import { scale, type Decimal } from '../world/money.ts';
import type { ActionContext, World } from '../world/world.ts';
import type { Service } from './catalogue.ts';

export function rateFor(account: Account, service: Service): Decimal {
  return scale(service.rate, account.rateMultiplier);
}

function visibleServices(world: World, account: Account): Service[] {
  return world.catalogue.services.filter((service) => !account.hiddenCategories.has(service.group));
}

/** The service named by `service`, as this key sees the catalogue. */
export function requireService(world: World, account: Account, fields: Fields): Service {
  const raw = text(fields, 'service');
  if (raw === undefined) throw new SupplierError(ERRORS.serviceRequired);
  const id = wholeNumber(raw);
  const service = id === undefined ? undefined : world.catalogue.byId.get(id);
  if (!service || account.hiddenCategories.has(service.group)) throw new SupplierError(ERRORS.serviceNotFound);
  return service;
}

export function categories({ world, account }: ActionContext): Json {
  return {
    categories: world.catalogue.categories
      .filter((entry) => !account.hiddenCategories.has(entry.category))
      .map((entry) => ({ category: entry.category, subcategories: entry.subcategories })),
  };
}

/**
 * Filters are exact names from `categories`; a flavour without filters lists every service whatever
 * they say. Without a positive `limit` every match comes back and `page`/`limit` equal `total`;
 * `total_pages` is 0 when nothing matches. A `page` or `limit` that is not a whole number falls back
 * to its default (1 and 0), as lenient panels cast them.
 */
export function services({ world, account, fields }: ActionContext): Json {
  const filters = world.flavour.filtersServices;
  const category = filters ? text(fields, 'category') : undefined;
  const subcategory = filters ? text(fields, 'subcategory') : undefined;
  const matching = visibleServices(world, account).filter(
    (service) =>
      (category === undefined || service.group === category) && (subcategory === undefined || service.subcategory === subcategory),
  );
  const total = matching.length;
  const limit = wholeNumber(text(fields, 'limit')) ?? 0;
  const page = Math.max(1, wholeNumber(text(fields, 'page')) ?? 1);
  const view = (service: Service) => serviceView(world, account, service);
  if (limit === 0) {
    return { services: matching.map(view), total, page: total, limit: total, total_pages: total === 0 ? 0 : 1 };
  }
  const start = (page - 1) * limit;
  return {
    services: matching.slice(start, start + limit).map(view),
    total,
    page,
    limit,
    total_pages: Math.ceil(total / limit),
  };
}

/** `dripfeed` is a field of the family's, not of the supplier's page. */
function serviceView({ flavour, api }: World, account: Account, service: Service): Json {
  return {
    service: service.id,
    name: service.name,
    type: service.type,
    category: service.category,
    rate: flavour.money(rateFor(account, service)),
    min: service.min,
    max: service.max,
    refill: service.refill,
    cancel: service.cancel,
    ...(api === 'full' ? { dripfeed: service.dripfeed } : {}),
    ...(flavour.serviceDetails ? { stock: service.stock, entityType: service.entityType, autoDelivery: service.autoDelivery } : {}),
  };
}

export function inventory({ world, account, fields }: ActionContext): Json {
  const service = requireService(world, account, fields);
  return {
    service: service.id,
    stock: service.stock,
    available: service.stock > 0,
    entityType: service.entityType,
    autoDelivery: service.autoDelivery,
  };
}
