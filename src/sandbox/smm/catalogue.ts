import { decimal, type Decimal } from '../world/money.ts';
import { mulberry32, pick, randomInt, seedFor, shuffled, type Random } from '../world/random.ts';
import {
  PRODUCT_CATEGORIES,
  PRODUCT_VARIANTS,
  QUANTITY_LIMITS,
  SMM_CATEGORIES,
  SMM_QUALIFIERS,
  type FixedService,
  type ProductCategory,
  type SmmCategory,
} from './catalogue-data.ts';

type EntityType = 'smm' | 'product';

export interface Service {
  id: number;
  name: string;
  /** The panel's label, as `services` prints it. */
  category: string;
  /** The name in `categories`, which filters and key views go by. */
  group: string;
  subcategory: string;
  rate: Decimal;
  min: number;
  max: number;
  refill: boolean;
  cancel: boolean;
  /** What `add` takes for it (service-types.ts). */
  type: string;
  /** Takes drip-feed `runs` and `interval`. */
  dripfeed: boolean;
  /** Shared by every key; products lose stock when ordered and regain what a refund returns. */
  stock: number;
  entityType: EntityType;
  autoDelivery: boolean;
  mailDomain?: string;
}

interface CategoryEntry {
  category: string;
  subcategories: string[];
}

export interface Catalogue {
  categories: CategoryEntry[];
  services: Service[];
  byId: Map<number, Service>;
}

const FIRST_SERVICE_ID = 1001;
const CATALOGUE_SALT = 1;
const DRIPFEED_SALT = 7;
const DRIPFEED_SHARE = 0.3;

/** Ids of their own, apart from the seeded ones' (below 2000 whatever the seed), the same in every flavour. */
const FIRST_TYPED_ID = 5001;

/**
 * The seeded catalogue, then `fixed` services, then `typed` ones: they come last, so the seeded
 * ones keep their ids.
 */
export function createCatalogue(seed: number, fixed: readonly FixedService[] = [], typed: readonly FixedService[] = []): Catalogue {
  const random = mulberry32(seedFor(seed, CATALOGUE_SALT));
  const services: Service[] = [];
  let nextId = FIRST_SERVICE_ID;
  const newId = () => {
    const id = nextId;
    nextId += randomInt(random, 1, 3);
    return id;
  };
  for (const category of SMM_CATEGORIES) services.push(...smmServices(random, category, newId));
  for (const category of PRODUCT_CATEGORIES) services.push(...productServices(random, category, newId));
  for (const service of services) service.dripfeed = takesDripFeed(seed, service);
  for (const service of fixed) services.push(fixedService(service, newId()));
  typed.forEach((service, index) => services.push(fixedService(service, FIRST_TYPED_ID + index)));
  const categories = [...SMM_CATEGORIES, ...PRODUCT_CATEGORIES].map((entry) => ({
    category: entry.category,
    subcategories: entry.subcategories.map((subcategory) => subcategory.name),
  }));
  return { categories, services, byId: new Map(services.map((service) => [service.id, service])) };
}

function rateBetween(random: Random, [low, high]: [number, number]): Decimal {
  const units = randomInt(random, low, high);
  // Most panels price in cents; a few services carry finer rates, which is where rounding bugs hide.
  const rounded = random() < 0.8 ? Math.max(100, Math.round(units / 100) * 100) : units;
  return decimal(rounded).div(10000);
}

/** Two qualifiers per name: neighbours in a shuffle, so no pair repeats within a subcategory. */
function qualifierPairs(random: Random, count: number): [string, string][] {
  const order = shuffled(random, SMM_QUALIFIERS);
  return Array.from({ length: count }, (_, index) => [order[index % order.length] ?? '', order[(index + 1) % order.length] ?? '']);
}

function smmServices(random: Random, category: SmmCategory, newId: () => number): Service[] {
  return category.subcategories.flatMap((subcategory) =>
    qualifierPairs(random, randomInt(random, 7, 9)).map(([first, second]) => {
      const limits = QUANTITY_LIMITS[subcategory.size];
      const max = pick(random, limits.max);
      return {
        id: newId(),
        name: `${category.label} ${subcategory.name} [${first}] [${second}]`,
        category: category.category,
        group: category.category,
        subcategory: subcategory.name,
        rate: rateBetween(random, subcategory.rate),
        min: pick(random, limits.min),
        max,
        refill: [first, second].some((qualifier) => qualifier.includes('Refill')) || random() < 0.3,
        cancel: random() < 0.4,
        type: 'Default',
        dripfeed: false,
        stock: max,
        entityType: 'smm' as const,
        autoDelivery: true,
      };
    }),
  );
}

/** Every subcategory gets at least one manual product and one that is sold out, whatever the seed. */
const MANUAL_INDEX = 1;
const SOLD_OUT_INDEX = 3;

function productServices(random: Random, category: ProductCategory, newId: () => number): Service[] {
  return category.subcategories.flatMap((subcategory) => {
    const variants = shuffled(random, PRODUCT_VARIANTS).slice(0, randomInt(random, 4, 6));
    return variants.map((variant, index) => {
      const stock = index === SOLD_OUT_INDEX || random() < 0.1 ? 0 : randomInt(random, 1, 200);
      return {
        id: newId(),
        name: `${subcategory.name} Account - ${variant}`,
        category: category.serviceCategory,
        group: category.category,
        subcategory: subcategory.name,
        rate: rateBetween(random, subcategory.rate),
        min: 1,
        max: Math.max(1, Math.min(pick(random, [10, 25, 50, 100]), stock || 50)),
        refill: false,
        cancel: false,
        type: 'Default',
        dripfeed: false,
        stock,
        entityType: 'product' as const,
        autoDelivery: index !== MANUAL_INDEX && random() >= 0.2,
        ...(subcategory.mailDomain ? { mailDomain: subcategory.mailDomain } : {}),
      };
    });
  });
}

/** Drawn from a stream of its own, so the catalogue's draws, and with them every id and rate, stay as they were. */
function takesDripFeed(seed: number, service: Service): boolean {
  return service.entityType === 'smm' && mulberry32(seedFor(seed, DRIPFEED_SALT, service.id))() < DRIPFEED_SHARE;
}

function fixedService(service: FixedService, id: number): Service {
  return {
    ...service,
    type: service.type ?? 'Default',
    dripfeed: service.dripfeed ?? false,
    id,
    group: service.category,
    rate: decimal(service.rate).div(10000),
    stock: service.max,
    entityType: 'smm',
    autoDelivery: true,
  };
}
