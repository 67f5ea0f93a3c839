/**
 * The state store in this process: right for the sandbox and for trying the gateway out, lost on
 * a restart and not shared between instances (start-up says so when a real supplier is set).
 */
import { LRUCache } from 'lru-cache';
import { bounded } from '../limits/lru.ts';
import {
  InvalidCursorError,
  OutcomeNotRecordedError,
  type IdempotencyRecord,
  type IdempotencyScope,
  type IdempotencyStore,
  type Ledger,
  type LedgerPage,
  type Outcome,
  type Placement,
  type PlacementKind,
  type SpendCounter,
  type StatePolicy,
  type StateStore,
} from './store.ts';

/** Callers whose records are kept; past this the least recent caller's records go first. */
const MAX_CALLERS = 10_000;

/** Placements listed per caller and kind, and orders whose owner is remembered, in this process. */
const MAX_PLACEMENTS_PER_CALLER = 100_000;
const MAX_OWNED_ORDERS = 1_000_000;

const DAY_MS = 86_400_000;

const recordKey = (scope: IdempotencyScope) => `${scope.mutation}\u0000${scope.key}`;

class MemoryIdempotency implements IdempotencyStore {
  readonly #callers = new LRUCache<string, LRUCache<string, IdempotencyRecord>>({ max: MAX_CALLERS });

  constructor(private readonly policy: StatePolicy) {}

  async claim(scope: IdempotencyScope, fingerprint: string, claim: string, leaseMs: number) {
    const records = this.#records(scope, true)!;
    const existing = records.get(recordKey(scope));
    if (existing) return existing;
    records.set(recordKey(scope), { state: 'pending', fingerprint, claim, leaseUntil: Date.now() + leaseMs });
    return undefined;
  }

  async settle(scope: IdempotencyScope, claim: string, fingerprint: string, outcome: Outcome) {
    const records = this.#records(scope, true)!;
    const existing = records.get(recordKey(scope));
    const own = existing?.state === 'pending' && existing.claim === claim;
    if (existing && !own) throw new OutcomeNotRecordedError();
    records.set(recordKey(scope), { state: 'done', fingerprint, outcome });
  }

  async release(scope: IdempotencyScope, claim: string) {
    if (this.#pending(scope, claim)) this.#records(scope)?.delete(recordKey(scope));
  }

  async abandon(scope: IdempotencyScope, claim: string, fingerprint: string, outcome: Outcome) {
    const pending = this.#pending(scope, claim);
    if (pending && pending.leaseUntil < Date.now()) await this.settle(scope, claim, fingerprint, outcome);
    return this.read(scope);
  }

  async read(scope: IdempotencyScope) {
    return this.#records(scope)?.get(recordKey(scope));
  }

  #pending(scope: IdempotencyScope, claim: string) {
    const record = this.#records(scope)?.get(recordKey(scope));
    return record?.state === 'pending' && record.claim === claim ? record : undefined;
  }

  /** Each caller has its own bounded set, so no caller can evict another's records. */
  #records(scope: IdempotencyScope, create = false) {
    const owner = `${scope.tenant}\u0000${scope.caller}`;
    let records = this.#callers.get(owner);
    if (!records && create) {
      records = new LRUCache({ ...bounded(this.policy.idempotencyMaxPerCaller), ttl: this.policy.idempotencyTtlSeconds * 1000 });
      this.#callers.set(owner, records);
    }
    return records;
  }
}

class MemoryLedger implements Ledger {
  /** Per tenant, caller and kind, newest first. */
  readonly #lists = new Map<string, Placement[]>();
  /** Each order's (or refill's) placement, by tenant, kind and id. */
  readonly #owners: LRUCache<string, Placement>;

  constructor(private readonly policy: StatePolicy) {
    this.#owners = new LRUCache({ ...bounded(MAX_OWNED_ORDERS), ttl: this.#retentionMs });
  }

  async open(placement: Placement) {
    await this.put(placement);
  }

  async put(placement: Placement) {
    this.#listed(placement, placement.caller);
    if (placement.placedBy) this.#listed(placement, placement.placedBy);
    if (placement.outcome === 'PLACED') {
      for (const id of placement.orderIds) this.#owners.set(this.#ownerKey(placement.tenant, placement.kind, id), placement);
    }
  }

  /** The placement in the list of one caller who may see it: its owner, or the backend that placed it. */
  #listed(placement: Placement, caller: string): void {
    const list = this.#list({ tenant: placement.tenant, caller }, placement.kind);
    const at = list.findIndex((entry) => entry.id === placement.id);
    if (at >= 0) list[at] = placement;
    else if (list.unshift(placement) > MAX_PLACEMENTS_PER_CALLER) list.pop();
  }

  async remove(placement: Placement) {
    for (const caller of [placement.caller, placement.placedBy]) {
      if (caller === undefined) continue;
      const list = this.#list({ tenant: placement.tenant, caller }, placement.kind);
      const at = list.findIndex((entry) => entry.id === placement.id);
      if (at >= 0) list.splice(at, 1);
    }
  }

  async page(owner: { tenant: string; caller: string }, kind: PlacementKind, first: number, after?: string): Promise<LedgerPage> {
    const list = this.#list(owner, kind);
    const cutoff = Date.now() - this.#retentionMs;
    while (list.length > 0 && Date.parse(list.at(-1)!.placedAt) < cutoff) list.pop();
    let start = 0;
    if (after !== undefined) {
      start = list.findIndex((entry) => entry.id === after) + 1;
      if (start === 0) throw new InvalidCursorError(after);
    }
    return { placements: list.slice(start, start + first), hasNextPage: start + first < list.length, totalCount: list.length };
  }

  async owners(tenant: string, kind: PlacementKind, ids: readonly string[]) {
    return (await this.placementsOf(tenant, kind, ids)).map(
      (placement) => placement && (placement.placedBy ? [placement.caller, placement.placedBy] : [placement.caller]),
    );
  }

  async placementsOf(tenant: string, kind: PlacementKind, ids: readonly string[]) {
    return ids.map((id) => this.#owners.get(this.#ownerKey(tenant, kind, id)));
  }

  get #retentionMs() {
    return this.policy.ledgerRetentionDays * DAY_MS;
  }

  #list(owner: { tenant: string; caller: string }, kind: PlacementKind): Placement[] {
    const key = `${owner.tenant}\u0000${owner.caller}\u0000${kind}`;
    let list = this.#lists.get(key);
    if (!list) this.#lists.set(key, (list = []));
    return list;
  }

  #ownerKey(tenant: string, kind: PlacementKind, id: string) {
    return `${tenant}\u0000${kind}\u0000${id}`;
  }
}

/** Per tenant, caller and day; days other than today and yesterday are dropped as others are counted. */
class MemorySpends implements SpendCounter {
  readonly #days = new Map<string, Map<string, bigint>>();

  async reserve(tenant: string, caller: string, day: string, amount: bigint, limit: bigint) {
    const counts = this.#day(day);
    const key = `${tenant}\u0000${caller}`;
    const spent = counts.get(key) ?? 0n;
    if (spent + amount > limit) return { reserved: false, spent };
    counts.set(key, spent + amount);
    return { reserved: true, spent: spent + amount };
  }

  async adjust(tenant: string, caller: string, day: string, delta: bigint) {
    const counts = this.#day(day);
    const key = `${tenant}\u0000${caller}`;
    counts.set(key, (counts.get(key) ?? 0n) + delta);
  }

  async spent(tenant: string, caller: string, day: string) {
    return this.#day(day).get(`${tenant}\u0000${caller}`) ?? 0n;
  }

  #day(day: string): Map<string, bigint> {
    let counts = this.#days.get(day);
    if (!counts) {
      for (const old of [...this.#days.keys()].sort().slice(0, -1)) this.#days.delete(old);
      this.#days.set(day, (counts = new Map()));
    }
    return counts;
  }
}

export function createMemoryStore(policy: StatePolicy): StateStore {
  return {
    kind: 'memory',
    ready: true,
    slow: false,
    idempotency: new MemoryIdempotency(policy),
    ledger: new MemoryLedger(policy),
    spends: new MemorySpends(),
    close: async () => {},
  };
}
