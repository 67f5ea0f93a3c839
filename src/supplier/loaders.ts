/**
 * Per-request DataLoaders: each dedupes what one operation (or one subscription event) asks, so a
 * document naming the same order twice makes one `status` call. Never kept across requests.
 */
import DataLoader from 'dataloader';
import { errorFromSupplier } from '../errors.ts';
import type { Ledger, PlacementKind } from '../state/store.ts';
import { SingleStatusOnly } from './parse.ts';
import type { Supplier } from './supplier.ts';
import type { Balance, Inventory, OrderState, RefillState, Service, SmsCodeState, SmsOrderState } from './types.ts';

/** A refill the caller may see, and the order it refills (which only the ledger knows). */
export interface RefillRef {
  id: string;
  orderId: string;
}

/** Results in key order, with an Error in place of a single key that failed. */
function each<K, V>(load: (key: K) => Promise<V>) {
  return (keys: readonly K[]) => Promise.all(keys.map((key) => load(key).catch(asError)));
}

/** The most ids one `status` call takes (the family's bound). */
export const STATUSES_PER_CALL = 100;

const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)));

/**
 * Ids read in one call where the supplier takes many (`many` says whether it does lately), each
 * its state or its own error; one call per id otherwise, and from the moment it turns out not to.
 */
async function manyOrEach<V>(
  ids: readonly string[],
  many: boolean,
  readMany: (ids: readonly string[]) => Promise<Map<string, V | Error>>,
  readOne: (id: string) => Promise<V>,
): Promise<Array<V | Error>> {
  if (ids.length > 1 && many) {
    try {
      const states = await readMany(ids);
      return ids.map((id) => states.get(id)!);
    } catch (error) {
      if (!(error instanceof SingleStatusOnly)) return ids.map(() => asError(error));
    }
  }
  return each(readOne)(ids);
}

export class Loaders {
  #orderStatus?: DataLoader<string, OrderState>;
  #smsStatus?: DataLoader<string, SmsOrderState>;
  #refill?: DataLoader<string, RefillRef>;
  #refillStatus?: DataLoader<string, RefillState>;
  #smsCode?: DataLoader<string, SmsCodeState>;
  #inventory?: DataLoader<string, Inventory | null>;
  #service?: DataLoader<string, Service | null>;
  #balance?: Promise<{ balance: Balance; readAt: number }>;

  constructor(
    private readonly supplier: Supplier,
    private readonly ledger: Pick<Ledger, 'owners' | 'placementsOf'>,
  ) {}

  /** The orders of one operation (or poll) read together: one `status` call per 100 where the supplier takes many. */
  get orderStatus() {
    return (this.#orderStatus ??= new DataLoader(
      this.#owned('order', 'status', (ids) => this.orderStates(ids)),
      { maxBatchSize: STATUSES_PER_CALL },
    ));
  }

  get smsStatus() {
    return (this.#smsStatus ??= new DataLoader(
      this.#owned(
        'sms',
        'sms_status',
        each((id) => this.supplier.smsStatus(id)),
      ),
    ));
  }

  /**
   * At most 100 orders' states, without the ownership check: for the polls of orders whose
   * watchers were each shown them when they subscribed. One call where the supplier takes many.
   */
  orderStates(ids: readonly string[]): Promise<Array<OrderState | Error>> {
    const { supplier } = this;
    return manyOrEach(
      ids,
      supplier.manyStatuses,
      (batch) => supplier.orderStatuses(batch),
      (id) => supplier.orderStatus(id),
    );
  }

  /**
   * Refills asked for through this gateway that the caller may see (its own, or any of the tenant's
   * when it reads all); any other is NOT_FOUND, as the supplier says of an unknown refill: the
   * supplier's `refill_status` does not say which order a refill is for.
   */
  get refill() {
    return (this.#refill ??= new DataLoader(async (ids: readonly string[]): Promise<Array<RefillRef | Error>> => {
      const { tenant, caller, readsAll } = this.supplier.caller;
      let placements;
      try {
        placements = await this.ledger.placementsOf(tenant, 'refill', ids);
      } catch (error) {
        return ids.map(() => asError(error));
      }
      return ids.map((id, index) => {
        const placement = placements[index];
        if (placement?.kind !== 'refill' || (!readsAll && placement.caller !== caller)) {
          return errorFromSupplier('Refill not found', 'refill_status');
        }
        return { id, orderId: placement.input.orderId };
      });
    }));
  }

  /** Statuses of refills already shown to be the caller's (`refill`): one call per 100 where the supplier takes many. */
  get refillStatus() {
    return (this.#refillStatus ??= new DataLoader((ids: readonly string[]) => this.refillStates(ids), { maxBatchSize: STATUSES_PER_CALL }));
  }

  /** At most 100 refills' statuses, without the ownership check (see `orderStates`). */
  refillStates(ids: readonly string[]): Promise<Array<RefillState | Error>> {
    const { supplier } = this;
    return manyOrEach(
      ids,
      supplier.manyRefillStatuses,
      (batch) => supplier.refillStatuses(batch),
      (id) => supplier.refillStatus(id),
    );
  }

  /**
   * Which of these orders the caller may see. In server-key mode every caller shares one supplier
   * key, so a caller sees only what it placed through this gateway, unless it reads all.
   */
  async visible(kind: PlacementKind, ids: readonly string[]): Promise<boolean[]> {
    const { tenant, caller, readsAll } = this.supplier.caller;
    if (readsAll) return ids.map(() => true);
    const owners = await this.ledger.owners(tenant, kind, ids);
    return owners.map((callers) => callers?.includes(caller) ?? false);
  }

  /** Loads the visible ids; any other is NOT_FOUND exactly as the supplier says it of an unknown id. */
  #owned<V>(kind: PlacementKind, action: string, loadEach: (ids: readonly string[]) => Promise<Array<V | Error>>) {
    return async (ids: readonly string[]): Promise<Array<V | Error>> => {
      let visible: boolean[];
      try {
        visible = await this.visible(kind, ids);
      } catch (error) {
        return ids.map(() => asError(error));
      }
      const loaded = await loadEach(ids.filter((_, index) => visible[index]));
      let next = 0;
      return ids.map((_, index) => (visible[index] ? loaded[next++]! : errorFromSupplier('Order not found', action)));
    };
  }

  get smsCode() {
    return (this.#smsCode ??= new DataLoader(each((id) => this.supplier.smsCode(id))));
  }

  get inventory() {
    return (this.#inventory ??= new DataLoader(each((id) => this.supplier.inventory(id))));
  }

  /** Any number of ids, one cached `services` call. */
  get service() {
    return (this.#service ??= new DataLoader(async (ids: readonly string[]) => {
      const { byId } = await this.supplier.catalogue();
      return ids.map((id) => byId.get(id) ?? null);
    }));
  }

  async balance(): Promise<Balance> {
    return (await this.balanceRead()).balance;
  }

  /** The balance and when its read started: a spend that ended before then is in it. */
  balanceRead(): Promise<{ balance: Balance; readAt: number }> {
    const readAt = Date.now();
    return (this.#balance ??= this.supplier.balance().then((balance) => ({ balance, readAt })));
  }

  /**
   * After money was spent (or may have been): the balance, and the stock of the service ordered,
   * are read again, by this request and, for the shared cache, by everyone.
   */
  spent(serviceId?: string): Promise<void> {
    this.#balance = undefined;
    if (serviceId === undefined) return Promise.resolve();
    this.#inventory?.clear(serviceId);
    return this.supplier.forgetInventory(serviceId);
  }
}
