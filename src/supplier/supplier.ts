/**
 * One tenant's view of the supplier: catalogue reads through the shared cache, live reads and
 * writes straight through the client. Built per request; cheap.
 */
import { limitKeyOf, type Identity } from '../auth/authenticator.ts';
import { unauthenticated } from '../auth/scopes.ts';
import type { CacheTtls } from '../config.ts';
import { isUnsupportedAction } from '../errors.ts';
import { Line } from '../limits/line.ts';
import type { ReadCache } from './cache.ts';
import type { HstockClient } from './client.ts';
import type { Category, Inventory, Money, NewOrder, NewSmsOrder, OrderState, RefillState, Service, ServiceFilter } from './types.ts';

export interface Catalogue {
  services: Service[];
  byId: ReadonlyMap<string, Service>;
}

export interface SupplierDeps {
  client: HstockClient;
  cache: ReadCache;
  ttl: CacheTtls;
  /** Told of every catalogue read: hit, miss or stale. */
  onCacheRead?: (action: string, result: 'hit' | 'miss' | 'stale') => void;
  /** Calls one operation sends to its key's line at once (the key's concurrency). */
  callsAtOnce: number;
  /** Told of each status read that the gateway does not know (it reads UNKNOWN, with its rawStatus). */
  onUnknownStatus?: (kind: 'order' | 'sms' | 'refill') => void;
}

/**
 * The catalogue's index by id, built once per cached list: the cache keeps plain JSON (it may be
 * shared through Redis), and the same list object comes back from the in-process copy.
 */
const indexes = new WeakMap<Service[], ReadonlyMap<string, Service>>();
function indexOf(services: Service[]): ReadonlyMap<string, Service> {
  let index = indexes.get(services);
  if (!index) indexes.set(services, (index = new Map(services.map((service) => [service.id, service]))));
  return index;
}

/** Categories as the catalogue names them, in its order, with the subcategories its services carry. */
function categoriesOf(services: Service[]): Category[] {
  const byName = new Map<string, Set<string>>();
  for (const service of services) {
    if (!service.category) continue;
    let subcategories = byName.get(service.category);
    if (!subcategories) byName.set(service.category, (subcategories = new Set()));
    if (service.subcategory) subcategories.add(service.subcategory);
  }
  return [...byName].map(([name, subcategories]) => ({ name, subcategories: [...subcategories] }));
}

const same = (a: string | null, b: string) => a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();

/** The supplier's answer to a filtered read, filtered again here when the supplier ignored the filter. */
const refiltered = new WeakMap<Service[], Map<string, Service[]>>();

/**
 * Some panels ignore `category=` and `subcategory=`. A list of one category holds one category
 * string; one with several, where the filter names some of them, was not filtered: it is filtered
 * here. A filter that names none of the strings is the supplier's own grouping (HstockPlus's
 * "Email Accounts" holds services of category "Accounts-Email"), and its answer stands. Services
 * that carry a subcategory are held to the subcategory filter the same way.
 */
function filtered(services: Service[], filter: ServiceFilter): Service[] {
  if (!filter.category && !filter.subcategory) return services;
  const key = `${filter.category ?? ''}\u0000${filter.subcategory ?? ''}`;
  let byFilter = refiltered.get(services);
  if (!byFilter) refiltered.set(services, (byFilter = new Map()));
  let kept = byFilter.get(key);
  if (!kept) {
    kept = services;
    const { category, subcategory } = filter;
    if (
      category &&
      new Set(services.map((service) => service.category)).size > 1 &&
      services.some((service) => same(service.category, category))
    ) {
      kept = kept.filter((service) => same(service.category, category));
    }
    if (subcategory) kept = kept.filter((service) => service.subcategory === null || same(service.subcategory, subcategory));
    byFilter.set(key, kept);
  }
  return kept;
}

export type StaleListener = (action: string, staleSeconds: number) => void;

export class Supplier {
  /** Supplier calls this request made (cache hits are none). */
  calls = 0;
  /**
   * The operation's own line to the supplier, at the key's concurrency: at most that many of its
   * calls in the key's line at once, the others wait here. The key's bulkhead bounds what a tenant
   * has waiting across all its operations and refuses past that; without this line one documented
   * operation (100 ids in `orders(ids:)`, 500 services with their stock) filled that bound by itself
   * and had its last calls refused. Each call's deadline starts when it leaves this line.
   */
  readonly #line: Line;

  constructor(
    private readonly identity: Identity,
    private readonly deps: SupplierDeps,
    private readonly onStale: StaleListener = () => {},
  ) {
    this.#line = new Line(deps.callsAtOnce);
  }

  /** Every use fails with UNAUTHENTICATED, before any upstream call, when the caller brought no usable key. */
  get tenant(): string {
    return this.#identity().tenant;
  }

  /** Who is asking, for what it owns. */
  get caller(): { tenant: string; caller: string; readsAll: boolean } {
    const { tenant, caller, readsAll } = this.#identity();
    return { tenant, caller, readsAll };
  }

  /** Whose request rate and subscription limits this caller counts toward (limitKeyOf). */
  get limitKey(): string {
    return limitKeyOf(this.#identity());
  }

  get #key(): string {
    return this.#identity().key;
  }

  #identity() {
    if (!this.identity.ok) throw unauthenticated(this.identity);
    return this.identity;
  }

  /** The supplier's categories; from the catalogue's own category strings when it has no `categories` action. */
  async categories(): Promise<Category[]> {
    try {
      return await this.#cached('categories', {}, this.deps.ttl.categories, () => this.deps.client.categories(this.#key));
    } catch (error) {
      if (!isUnsupportedAction(error)) throw error;
      return categoriesOf((await this.catalogue()).services);
    }
  }

  /** One `services` call per filter per TTL, however many pages or ids are read from it. */
  async catalogue(filter: ServiceFilter = {}): Promise<Catalogue> {
    const answer = await this.#cached('services', { ...filter }, this.deps.ttl.services, () =>
      this.deps.client.services(this.#key, filter),
    );
    const services = filtered(answer, filter);
    return { services, byId: indexOf(services) };
  }

  /** Live stock; null when the supplier has no `inventory` action. */
  async inventory(serviceId: string): Promise<Inventory | null> {
    try {
      return await this.#cached('inventory', { serviceId }, this.deps.ttl.inventory, () =>
        this.deps.client.inventory(this.#key, serviceId),
      );
    } catch (error) {
      if (isUnsupportedAction(error)) return null;
      throw error;
    }
  }

  smsCountries() {
    return this.#cached('sms_countries', {}, this.deps.ttl.smsCountries, () => this.deps.client.smsCountries(this.#key));
  }

  smsProjects(country?: string) {
    return this.#cached('sms_projects', { country }, this.deps.ttl.smsProjects, () => this.deps.client.smsProjects(this.#key, country));
  }

  balance() {
    return this.#call((key) => this.deps.client.balance(key));
  }

  orderStatus(id: string) {
    return this.#call((key) => this.deps.client.orderStatus(key, id)).then((state) => this.#known('order', state));
  }

  /** Many orders in one `status` call (at most 100), each its state or its own error. */
  async orderStatuses(ids: readonly string[]): Promise<Map<string, OrderState | Error>> {
    const states = await this.#call((key) => this.deps.client.orderStatuses(key, ids));
    for (const state of states.values()) if (!(state instanceof Error)) this.#known('order', state);
    return states;
  }

  /** Whether `status` takes many orders at once from this supplier. */
  get manyStatuses(): boolean {
    return this.deps.client.manyStatuses;
  }

  /** Asks for a refill of the order; resolves to the refill's id. */
  refill(orderId: string): Promise<string> {
    return this.#call((key) => this.deps.client.refill(key, orderId));
  }

  refillStatus(id: string) {
    return this.#call((key) => this.deps.client.refillStatus(key, id)).then((state) => this.#known('refill', state));
  }

  /** Many refills in one `refill_status` call (at most 100), each its state or its own error. */
  async refillStatuses(ids: readonly string[]): Promise<Map<string, RefillState | Error>> {
    const states = await this.#call((key) => this.deps.client.refillStatuses(key, ids));
    for (const state of states.values()) if (!(state instanceof Error)) this.#known('refill', state);
    return states;
  }

  get manyRefillStatuses(): boolean {
    return this.deps.client.manyRefillStatuses;
  }

  /** Asks for these orders (at most 100) to be canceled, in one call: each asked (`true`) or its own error. */
  cancel(ids: readonly string[]): Promise<Map<string, true | Error>> {
    return this.#call((key) => this.deps.client.cancel(key, ids));
  }

  smsStatus(id: string) {
    return this.#call((key) => this.deps.client.smsStatus(key, id)).then((state) => this.#known('sms', state));
  }

  #known<S extends { status: string }>(kind: 'order' | 'sms' | 'refill', state: S): S {
    if (state.status === 'UNKNOWN') this.deps.onUnknownStatus?.(kind);
    return state;
  }

  smsCode(id: string) {
    return this.#call((key) => this.deps.client.smsCode(key, id));
  }

  addOrder(order: NewOrder): Promise<string> {
    return this.#call((key) => this.deps.client.addOrder(key, order));
  }

  addSms(order: NewSmsOrder, price: Money | null) {
    return this.#call((key) => this.deps.client.addSms(key, order, price));
  }

  /** After an order: the service's stock must be read again by everyone. */
  forgetInventory(serviceId: string): Promise<void> {
    return this.deps.cache.delete(this.#cacheKey('inventory', { serviceId }));
  }

  /** A call that is not cached, counted once the caller proved it may make it. */
  #call<T>(make: (key: string) => Promise<T>): Promise<T> {
    const key = this.#key;
    this.calls += 1;
    return this.#line.run(() => make(key));
  }

  #cacheKey(action: string, params: Record<string, string | undefined>): string {
    const fields = Object.entries(params)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `${this.tenant}\u0000${action}\u0000${JSON.stringify(fields)}`;
  }

  async #cached<T extends object>(
    action: string,
    params: Record<string, string | undefined>,
    ttlSeconds: number,
    load: () => Promise<T>,
  ): Promise<T> {
    const counted = () => {
      this.calls += 1;
      return this.#line.run(load);
    };
    const read = await this.deps.cache.read(this.#cacheKey(action, params), ttlSeconds, counted);
    this.deps.onCacheRead?.(action, read.result);
    if (read.staleSeconds !== undefined) this.onStale(action, read.staleSeconds);
    return read.value;
  }
}
