/**
 * oidc-provider's storage, in this process. One store outlives each Provider built on it, so that a
 * key rotation (a new Provider) keeps sessions, interactions, grants, codes and refresh tokens.
 */
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch milliseconds; Infinity for what oidc-provider stores without a lifetime. */
  expiresAt: number;
}

/** Expired entries go when read, and in one sweep a minute at most, so a long run does not pile them up. */
const SWEEP_INTERVAL_MS = 60_000;

class MemoryStore {
  readonly entries = new Map<string, Entry>();
  private lastSweep = Date.now();

  get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) this.entries.delete(key);
    return entry && entry.expiresAt > Date.now() ? entry.payload : undefined;
  }

  set(key: string, payload: AdapterPayload, expiresInS: number | undefined): void {
    this.sweep();
    this.entries.set(key, { payload, expiresAt: expiresInS === undefined ? Infinity : Date.now() + expiresInS * 1000 });
  }

  private sweep(): void {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

class MemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: MemoryStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.store.set(this.key(id), payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.get(this.key(id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const key = this.keys().find((each) => this.store.entries.get(each)?.payload.uid === uid);
    return key === undefined ? undefined : this.store.get(key);
  }

  /** Only the device flow looks tokens up by user code, and the sandbox does not offer it. */
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of this.keys()) if (this.store.entries.get(key)?.payload.grantId === grantId) this.store.entries.delete(key);
  }

  /** The keys of this model's entries: a linear scan, as a sandbox holds a few hundred at most. */
  private keys(): string[] {
    return [...this.store.entries.keys()].filter((key) => key.startsWith(`${this.model}:`));
  }
}

/** An adapter factory whose adapters all share one new store. */
export function memoryAdapter(): AdapterFactory {
  const store = new MemoryStore();
  return (model) => new MemoryAdapter(model, store);
}
