/**
 * The event log's interface: the followed ids of each tenant and kind with their next poll, the
 * state last recorded for each, the callers' feeds and the outbox. In this process (memory.ts) or
 * in Redis (redis.ts); the follower (follower.ts) decides what a poll means, the store applies it
 * atomically and only under a claim that is still current.
 */
import type { FollowedKind, Outbox, RecordedEvent } from './types.ts';

/** What the follower keeps of a placement while it follows one of its ids. */
export interface Followed {
  id: string;
  /** Who sees its events: the owner, and the backend that placed it for them. */
  callers: string[];
  /** A refill's order. */
  orderId?: string;
}

/** The state last recorded for an id. */
export interface Recorded {
  version: number;
  /** The state as JSON, exactly as compared: a poll whose JSON differs is a change. */
  state: string;
  /** ISO-8601: when the change was seen (the event's `at`). */
  at: string;
  /** The round that saw the change (ms): the follower backs off from it. */
  round: number;
}

/** Ids claimed for one read, each with what is recorded of it. */
export interface Claim {
  /** The fence: what the claim applies counts only while this is still the ids' claim. */
  token: string;
  /** How many of `ids` were due; the rest filled the call up (they cost no call). */
  due: number;
  ids: Array<{ followed: Followed; recorded?: Recorded }>;
}

/** A claim asked for: see `EventLog.claim`. */
export interface ClaimAsked {
  max: number;
  now: number;
  leaseUntil: number;
  fill: boolean;
}

/** What one poll of a claimed id came to. */
export interface Step {
  id: string;
  /** When to poll it again (ms); null: it is done (final, or the supplier does not know it). */
  next: number | null;
  /** Its new state, one version after the one claimed. */
  record?: Recorded;
  event?: RecordedEvent;
}

/** A caller's event with its place in the feed. */
export interface FeedEntry {
  seq: number;
  event: RecordedEvent;
}

export interface EventLog {
  readonly kind: 'memory' | 'redis';
  readonly outbox: Outbox;
  /** The ids join their tenant's due set, first polled at `at`; an id already followed keeps its schedule. */
  follow(tenant: string, kind: FollowedKind, followed: Followed[], at: number): Promise<void>;
  /**
   * Takes up to `max` ids of one tenant and kind that are due at `now`, and with `fill` fills the
   * rest of `max` with the ids due soonest that no one holds; each is held until `leaseUntil`.
   * Resolves undefined when none is due.
   */
  claim(tenant: string, kind: FollowedKind, asked: ClaimAsked): Promise<Claim | undefined>;
  /**
   * Applies the steps of a claim, each only while the claim is the id's current one and the
   * recorded version is still the one before: its state, its event in each caller's feed and in
   * the outbox, its next poll, in one atomic write. Resolves how many were applied.
   */
  apply(tenant: string, kind: FollowedKind, claim: Claim, steps: Step[]): Promise<number>;
  /** A caller's events after `after` (a seq), oldest first: `first` of them, and whether more follow. */
  feed(tenant: string, caller: string, after: number | undefined, first: number): Promise<{ entries: FeedEntry[]; hasNextPage: boolean }>;
  /** The state recorded for each id, in the order of `ids`. */
  recorded(tenant: string, kind: FollowedKind, ids: readonly string[]): Promise<Array<Recorded | undefined>>;
}

/** How long events and recorded states are kept: as long as the ledger. */
export interface EventPolicy {
  retentionMs: number;
}
