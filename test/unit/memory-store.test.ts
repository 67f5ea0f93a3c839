/** The in-process state store: bounded per caller, a caller costs nothing before it stores, and an outcome is kept. */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/state/memory.ts';
import { OutcomeNotRecordedError } from '../../src/state/store.ts';

describe('in-process idempotency records', () => {
  it('reserve no memory for a caller up front', async () => {
    const store = createMemoryStore({ idempotencyTtlSeconds: 60, idempotencyMaxPerCaller: 100_000, ledgerRetentionDays: 90 });
    const before = process.memoryUsage().arrayBuffers;
    for (let caller = 0; caller < 200; caller += 1) {
      await store.idempotency.claim({ tenant: 't', caller: `c${caller}`, mutation: 'addOrder', key: 'k' }, 'f', 'claim', 1000);
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(5 * 2 ** 20);
  });

  it("keeps each caller's records within its own bound", async () => {
    const store = createMemoryStore({ idempotencyTtlSeconds: 60, idempotencyMaxPerCaller: 3, ledgerRetentionDays: 90 });
    const scope = (caller: string, key: string) => ({ tenant: 't', caller, mutation: 'addOrder', key });
    await store.idempotency.claim(scope('a', 'mine'), 'f', 'claim', 1000);
    for (let n = 0; n < 10; n += 1) await store.idempotency.claim(scope('b', `k${n}`), 'f', 'claim', 1000);
    expect(await store.idempotency.read(scope('a', 'mine'))).toMatchObject({ state: 'pending' });
    expect(await store.idempotency.read(scope('b', 'k0'))).toBeUndefined();
    expect(await store.idempotency.read(scope('b', 'k9'))).toMatchObject({ state: 'pending' });
  });

  it('write an outcome whose claim is gone, and refuse one whose key another request holds', async () => {
    const store = createMemoryStore({ idempotencyTtlSeconds: 60, idempotencyMaxPerCaller: 1, ledgerRetentionDays: 90 });
    const scope = (key: string) => ({ tenant: 't', caller: 'c', mutation: 'addOrder', key });
    const placed = { ok: true as const, value: '100001' };
    await store.idempotency.claim(scope('first'), 'f', 'claim-1', 1000);
    await store.idempotency.claim(scope('second'), 'f', 'claim-2', 1000); // the bound of 1 evicts the first claim
    await store.idempotency.settle(scope('first'), 'claim-1', 'f', placed);
    expect(await store.idempotency.read(scope('first'))).toEqual({ state: 'done', fingerprint: 'f', outcome: placed });
    await expect(store.idempotency.settle(scope('first'), 'claim-3', 'f', placed)).rejects.toThrow(OutcomeNotRecordedError);
  });
});
