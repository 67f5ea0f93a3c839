import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/sandbox/world/due-queue.ts';

describe('the due queue', () => {
  it('runs what is due, earliest first, each once, and keeps the rest', () => {
    const queue = new DueQueue();
    const ran: number[] = [];
    for (const at of [50, 10, 40, 30, 20, 60]) queue.push(at, () => ran.push(at));
    queue.runUntil(35);
    expect(ran).toEqual([10, 20, 30]);
    queue.runUntil(35);
    expect(ran).toEqual([10, 20, 30]);
    queue.push(5, () => ran.push(5));
    queue.runUntil(100);
    expect(ran).toEqual([10, 20, 30, 5, 40, 50, 60]);
  });

  it('passes the time it runs at', () => {
    const queue = new DueQueue();
    let seen = 0;
    queue.push(1, (now) => (seen = now));
    queue.runUntil(7);
    expect(seen).toBe(7);
  });
});
