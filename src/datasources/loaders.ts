/**
 * Per-request DataLoaders: each dedupes what one operation (or one subscription event) asks, so a
 * document naming the same order twice makes one `status` call. Never kept across requests.
 */
import DataLoader from 'dataloader';
import type { Supplier } from './supplier.ts';
import type { Balance, Inventory, OrderState, Service, SmsCodeState, SmsOrderState } from './types.ts';

/** Results in key order, with an Error in place of a single key that failed. */
function each<K, V>(load: (key: K) => Promise<V>) {
  return (keys: readonly K[]) =>
    Promise.all(keys.map((key) => load(key).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))));
}

export class Loaders {
  #orderStatus?: DataLoader<string, OrderState>;
  #smsStatus?: DataLoader<string, SmsOrderState>;
  #smsCode?: DataLoader<string, SmsCodeState>;
  #inventory?: DataLoader<string, Inventory>;
  #service?: DataLoader<string, Service | null>;
  #balance?: Promise<Balance>;

  constructor(private readonly supplier: Supplier) {}

  get orderStatus() {
    return (this.#orderStatus ??= new DataLoader(each((id) => this.supplier.orderStatus(id))));
  }

  get smsStatus() {
    return (this.#smsStatus ??= new DataLoader(each((id) => this.supplier.smsStatus(id))));
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

  balance(): Promise<Balance> {
    return (this.#balance ??= this.supplier.balance());
  }

  /**
   * After money was spent (or may have been): the balance, and the stock of the service ordered,
   * are read again, by this request and, for the shared cache, by everyone.
   */
  spent(serviceId?: string): void {
    this.#balance = undefined;
    if (serviceId === undefined) return;
    this.#inventory?.clear(serviceId);
    this.supplier.forgetInventory(serviceId);
  }
}
