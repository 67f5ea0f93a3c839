/**
 * The event log in this process: followed ids, recorded states, feeds and the outbox, lost on a
 * restart and polled by this instance alone. Each step below runs without an await, so it is as
 * atomic here as a script is in Redis.
 */
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { bounded } from '../limits/lru.ts';
import type { Claim, ClaimAsked, EventLog, EventPolicy, FeedEntry, Followed, Recorded, Step } from './store.ts';
import type { FollowedKind, Outbox, RecordedEvent } from './types.ts';

/** Recorded states kept, and events per caller's feed, in this process. */
const MAX_RECORDED = 1_000_000;
const MAX_FEED = 100_000;

interface Due {
  followed: Followed;
  /** When it is due: its next poll, or the end of the lease of the claim holding it. */
  score: number;
  token?: string;
}

class MemoryOutbox implements Outbox {
  readonly #entries = new Map<string, { event: RecordedEvent; from: number }>();

  constructor(private readonly policy: EventPolicy) {}

  add(event: RecordedEvent, now: number): void {
    this.#entries.set(event.id, { event, from: now });
  }

  async take(max: number, leaseMs: number) {
    const now = Date.now();
    const taken: Array<{ event: RecordedEvent; receipt: string }> = [];
    for (const [id, entry] of this.#entries) {
      if (entry.from < now - this.policy.retentionMs) this.#entries.delete(id);
      else if (entry.from <= now && taken.length < max) {
        entry.from = now + leaseMs;
        taken.push({ event: entry.event, receipt: id });
      }
    }
    return taken;
  }

  async done(receipt: string) {
    this.#entries.delete(receipt);
  }
}

export class MemoryEventLog implements EventLog {
  readonly kind = 'memory';
  readonly outbox: MemoryOutbox;
  readonly #due = new Map<string, Map<string, Due>>();
  readonly #recorded = new LRUCache<string, Recorded>({ ...bounded(MAX_RECORDED) });
  readonly #feeds = new Map<string, FeedEntry[]>();
  #seq = 0;

  constructor(private readonly policy: EventPolicy) {
    this.outbox = new MemoryOutbox(policy);
  }

  async follow(tenant: string, kind: FollowedKind, followed: Followed[], at: number) {
    const due = this.#set(tenant, kind);
    for (const each of followed) if (!due.has(each.id)) due.set(each.id, { followed: each, score: at });
  }

  async claim(tenant: string, kind: FollowedKind, { max, now, leaseUntil, fill }: ClaimAsked): Promise<Claim | undefined> {
    const entries = [...this.#set(tenant, kind).values()];
    const due = entries.filter((entry) => entry.score <= now).sort((a, b) => a.score - b.score);
    if (due.length === 0) return undefined;
    const taken = due.slice(0, max);
    if (fill && taken.length < max) {
      const free = entries.filter((entry) => entry.score > now && entry.token === undefined).sort((a, b) => a.score - b.score);
      taken.push(...free.slice(0, max - taken.length));
    }
    const token = randomUUID();
    for (const entry of taken) Object.assign(entry, { score: leaseUntil, token });
    return {
      token,
      due: Math.min(due.length, max),
      ids: taken.map((entry) => ({ followed: entry.followed, recorded: this.#recorded.get(this.#key(tenant, kind, entry.followed.id)) })),
    };
  }

  async apply(tenant: string, kind: FollowedKind, claim: Claim, steps: Step[]) {
    const due = this.#set(tenant, kind);
    const now = Date.now();
    let applied = 0;
    for (const step of steps) {
      const entry = due.get(step.id);
      if (entry?.token !== claim.token) continue;
      entry.token = undefined;
      const key = this.#key(tenant, kind, step.id);
      if (step.record && (this.#recorded.get(key)?.version ?? 0) + 1 === step.record.version) {
        this.#recorded.set(key, step.record, { ttl: this.policy.retentionMs });
        if (step.event) this.#append(step.event, now);
      }
      if (step.next === null) due.delete(step.id);
      else entry.score = step.next;
      applied += 1;
    }
    return applied;
  }

  async feed(tenant: string, caller: string, after: number | undefined, first: number) {
    const feed = this.#feed(tenant, caller);
    const from = Math.max(after ?? -Infinity, Date.now() - this.policy.retentionMs);
    const start = feed.findIndex((entry) => entry.seq > from);
    const rest = start < 0 ? [] : feed.slice(start, start + first + 1);
    return { entries: rest.slice(0, first), hasNextPage: rest.length > first };
  }

  async recorded(tenant: string, kind: FollowedKind, ids: readonly string[]) {
    return ids.map((id) => this.#recorded.get(this.#key(tenant, kind, id)));
  }

  /** Into each caller's feed and the outbox, with the next number of the sequence: never below the time, so feeds are trimmed by it. */
  #append(event: RecordedEvent, now: number): void {
    this.#seq = Math.max(this.#seq + 1, now);
    for (const caller of event.callers) {
      const feed = this.#feed(event.tenant, caller);
      feed.push({ seq: this.#seq, event });
      const stale = feed.findIndex((entry) => entry.seq >= now - this.policy.retentionMs);
      feed.splice(0, Math.max(stale < 0 ? feed.length : stale, feed.length - MAX_FEED));
    }
    this.outbox.add(event, now);
  }

  #feed(tenant: string, caller: string): FeedEntry[] {
    const key = `${tenant}\u0000${caller}`;
    let feed = this.#feeds.get(key);
    if (!feed) this.#feeds.set(key, (feed = []));
    return feed;
  }

  #set(tenant: string, kind: FollowedKind): Map<string, Due> {
    const key = `${tenant}\u0000${kind}`;
    let due = this.#due.get(key);
    if (!due) this.#due.set(key, (due = new Map()));
    return due;
  }

  #key(tenant: string, kind: FollowedKind, id: string) {
    return `${tenant}\u0000${kind}\u0000${id}`;
  }
}
