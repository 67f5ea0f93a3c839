/**
 * `loadShared` across instances: whatever the interleaving of two instances' reads, locks and
 * loads, one filter is loaded once. Each case completes another instance's whole load at the one
 * point in this instance's steps where it used to slip through.
 */
import { describe, expect, it, vi } from 'vitest';
import { loadShared, type SharedCache, type SharedEntry } from '../../src/supplier/shared-cache.ts';

/** A shared cache in memory; `afterMiss` runs once, after a read that found nothing has answered. */
class MemoryShared implements SharedCache {
  readonly entries = new Map<string, SharedEntry>();
  readonly locks = new Set<string>();
  afterMiss?: () => Promise<void>;

  async get(key: string) {
    const entry = this.entries.get(key);
    const hook = entry ? undefined : this.afterMiss;
    if (hook) {
      this.afterMiss = undefined;
      // The caller sees the miss only once the other instance has finished.
      await hook();
    }
    return entry;
  }
  async set(key: string, entry: SharedEntry) {
    this.entries.set(key, entry);
  }
  async lock(key: string) {
    if (this.locks.has(key)) return false;
    this.locks.add(key);
    return true;
  }
  async unlock(key: string) {
    this.locks.delete(key);
  }
  async loading(key: string) {
    return this.locks.has(key);
  }
  async delete(key: string) {
    this.entries.delete(key);
  }
  onDelete() {}
}

const timing = { ttlMs: 60_000, keepMs: 120_000, waitMs: 2_000, now: () => Date.now() };

describe('loadShared', () => {
  it('does not load again when another instance loaded between this one’s read and its lock', async () => {
    const shared = new MemoryShared();
    const other = vi.fn(async () => ({ from: 'other' }));
    const mine = vi.fn(async () => ({ from: 'mine' }));
    shared.afterMiss = async () => void (await loadShared(shared, 'services', timing, other));

    const result = await loadShared(shared, 'services', timing, mine);

    expect(other).toHaveBeenCalledTimes(1);
    expect(mine).not.toHaveBeenCalled();
    expect(result).toMatchObject({ value: { from: 'other' }, fromShared: true });
  });

  it('does not load again when the loader released its lock between this one’s read and its check', async () => {
    const shared = new MemoryShared();
    const mine = vi.fn(async () => ({ from: 'mine' }));
    shared.locks.add('services'); // another instance is loading
    let reads = 0;
    shared.afterMiss = async () => {
      reads += 1;
      if (reads === 1) {
        shared.afterMiss = finish; // the first miss is the read before the lock; the next is the wait
      }
    };
    const finish = async () => {
      shared.entries.set('services', { value: { from: 'other' }, fetchedAt: Date.now() });
      shared.locks.delete('services');
    };

    const result = await loadShared(shared, 'services', timing, mine);

    expect(mine).not.toHaveBeenCalled();
    expect(result).toMatchObject({ value: { from: 'other' }, fromShared: true });
  });

  it('loads by itself when Redis is away', async () => {
    const shared = new MemoryShared();
    shared.get = async () => Promise.reject(new Error('Redis away'));
    const mine = vi.fn(async () => ({ from: 'mine' }));

    expect(await loadShared(shared, 'services', timing, mine)).toMatchObject({ value: { from: 'mine' }, fromShared: false });
  });
});
