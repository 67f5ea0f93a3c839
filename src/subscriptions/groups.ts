/**
 * Subscribers grouped by what they would receive: one execution per group, each event executed
 * once and sent to every subscriber of it (serialised once per transport).
 *
 * Why grouping, and why here: a subscription run on its own costs an execution chain (graphql-ws's
 * operation, envelop's hooks, the executor's iterators and the poll hub's channel, about 15 KiB)
 * and executes every change once per watcher, although every watcher of one order with one
 * document sees the same payload. A group is keyed by everything that decides the payload: the
 * document, the operation name and the variables, and who is asking (tenant, the caller unless it
 * reads the whole tenant, the scopes that hide fields, the key its limits count toward). So no
 * payload crosses callers, and one more subscriber to a running group costs an entry in its set.
 *
 * What each subscriber still gets for itself: authentication, validation and the limits at
 * subscribe time (the per-connection count, starts per second, the per-tenant count, taken by
 * `admit` for each joiner as the execution took them for the first), the group's last event at
 * once on joining, and its own end when its token expires. The events themselves are already
 * distinct (useSubscriptionEvents runs in the group's execution), so every subscriber of a group
 * sees each change once.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import { atExpiry } from '../auth/jwt.ts';

/** Arguments of the groups' own executions, which go through the plugins a subscriber's did. */
const executions = new WeakSet<object>();

export const markGroupExecution = (args: object) => void executions.add(args);

/** Whether an operation is a group's execution rather than a subscriber's request. */
export const isGroupExecution = (args: object) => executions.has(args);

/** One event of a group: the result as executed, and its text for sockets, made once for all of them. */
export class GroupEvent {
  #text?: string;

  constructor(readonly result: ExecutionResult) {}

  /** The payload as `format` writes it: the first socket subscriber pays for it, the others reuse it. */
  text(format: (result: ExecutionResult) => string): string {
    return (this.#text ??= format(this.result));
  }
}

/**
 * One subscriber, whatever carries it: a graphql-ws operation on a socket (websocket.ts) or an SSE
 * stream (StreamSubscriber). Kept small on purpose: there may be a hundred thousand.
 */
export abstract class Subscriber {
  group?: Group;
  /** This subscriber's own places under the limits; none for the one the execution's places cover. */
  release?: () => void;
  cancelExpiry?: () => void;

  abstract deliver(event: GroupEvent): void;
  /** The group ended (a final state, or an error already delivered): the subscription completes. */
  abstract finish(): void;

  /** The subscriber goes (the client completed it, or its connection closed). */
  leave(): void {
    this.group?.groups.leave(this.group, this);
  }
}

/**
 * An SSE subscriber, pulled by Yoga's event stream. An iterator rather than a generator: a
 * generator waiting for its next event would not see the client leave until that event came.
 */
export class StreamSubscriber extends Subscriber implements AsyncIterableIterator<ExecutionResult> {
  /**
   * Events not yet pulled (each the group's own result, shared); past this many the client is not
   * reading, and its subscription ends with RATE_LIMITED (`reason: "NOT_READING"`) rather than
   * skipping events it would never know it missed (orderUpdates' events are of several orders).
   */
  static readonly QUEUED = 1000;
  #queue: ExecutionResult[] = [];
  #waiting?: (result: IteratorResult<ExecutionResult>) => void;
  #done = false;

  deliver(event: GroupEvent): void {
    if (this.#done) return;
    if (this.#waiting) {
      this.#waiting({ value: event.result, done: false });
      this.#waiting = undefined;
    } else if (this.#queue.length < StreamSubscriber.QUEUED) {
      this.#queue.push(event.result);
    } else {
      const error = new GraphQLError('The client does not read its events: subscribe again.', {
        path: this.group?.path,
        extensions: { code: 'RATE_LIMITED', reason: 'NOT_READING' },
      });
      this.#queue = [{ errors: [error] }];
      this.finish();
      this.leave();
    }
  }

  finish(): void {
    this.#done = true;
    if (this.#waiting && this.#queue.length === 0) {
      this.#waiting({ value: undefined, done: true });
      this.#waiting = undefined;
    }
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const value = this.#queue.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.#queue = [];
    this.finish();
    this.leave();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** What the group layer needs of a subscription request; the plugin builds it from the operation. */
export interface JoinRequest {
  key: string;
  /** The root field's response path, for errors said to one subscriber (an expired token). */
  path: readonly string[];
  /** When the subscriber's token expires (signed-in customers): it leaves then, told why. */
  expiresAt?: number;
  /** Runs the group's one execution: its events, or the result that refused it. None: join a running group or none. */
  execute?(): Promise<AsyncIterable<ExecutionResult> | ExecutionResult>;
  /** How many subscriptions the execution counted (orderUpdates: one per id), once it ran. */
  weight?(): number;
  /** Takes a joiner's places under the limits (throws the refusal); resolves to how to give them back. */
  admit(weight: number): Promise<() => void>;
  /** A refusal of `admit` as the subscriber is told it, located at the root field. */
  refusal(error: unknown): ExecutionResult;
}

/** What `join` answers a request without an execution of its own when no group runs. */
export const NO_GROUP = Symbol('no group');

export class Group {
  readonly subscribers = new Set<Subscriber>();
  last?: GroupEvent;
  weight = 1;
  ended = false;
  source?: AsyncIterator<ExecutionResult>;
  /** Settles once the execution has started: undefined, or the result that refused it. */
  ready!: Promise<ExecutionResult | undefined>;

  constructor(
    readonly groups: SubscriptionGroups,
    readonly key: string,
    readonly path: readonly string[],
  ) {}
}

export interface GroupSizes {
  groups: number;
  subscribers: number;
  /** Groups by how many subscribers they have: 1, 2–10, 11–100, 101–1000, more. */
  bySize: Record<GroupSizeBucket, number>;
}

export const GROUP_SIZE_BUCKETS = ['1', '2-10', '11-100', '101-1000', '1001+'] as const;
type GroupSizeBucket = (typeof GROUP_SIZE_BUCKETS)[number];

const bucketOf = (size: number): GroupSizeBucket =>
  size <= 1 ? '1' : size <= 10 ? '2-10' : size <= 100 ? '11-100' : size <= 1000 ? '101-1000' : '1001+';

export interface GroupOptions {
  /** Told of each event executed, with how many subscribers it went to. */
  onEvent?: (subscribers: number) => void;
  /** Told of an execution that failed other than with a GraphQL error (its subscribers get a masked one). */
  onFailure?: (error: unknown) => void;
}

export class SubscriptionGroups {
  readonly #groups = new Map<string, Group>();

  constructor(private readonly options: GroupOptions = {}) {}

  /**
   * Adds a subscriber to the group of its request, starting the group's execution if it has none:
   * undefined once it is in (its events follow through `deliver`), or the result refusing it. A
   * request that finds the group ended while it was being admitted joins the group that follows.
   * One with no execution of its own gets NO_GROUP where there is no group to join.
   */
  join(request: JoinRequest & Required<Pick<JoinRequest, 'execute'>>, subscriber: Subscriber): Promise<ExecutionResult | undefined>;
  join(request: JoinRequest, subscriber: Subscriber): Promise<ExecutionResult | undefined | typeof NO_GROUP>;
  async join(request: JoinRequest, subscriber: Subscriber): Promise<ExecutionResult | undefined | typeof NO_GROUP> {
    for (;;) {
      const running = this.#groups.get(request.key);
      if (!running) {
        if (!request.execute) return NO_GROUP;
        const group = new Group(this, request.key, request.path);
        this.#groups.set(request.key, group);
        group.ready = this.#start(group, request);
        const refused = await group.ready;
        if (refused) return refused;
        // The execution's own places cover its first subscriber.
        this.#attach(group, subscriber, undefined, request.expiresAt);
        this.#pump(group).catch((error: unknown) => this.options.onFailure?.(error));
        return undefined;
      }
      const refused = await running.ready;
      if (refused) return refused;
      let release: () => void;
      try {
        release = await request.admit(running.weight);
      } catch (error) {
        return request.refusal(error);
      }
      if (running.ended) {
        release();
        continue;
      }
      this.#attach(running, subscriber, release, request.expiresAt);
      return undefined;
    }
  }

  /**
   * A subscriber leaves. The last one stops the execution (and with it the poll loop); one whose
   * places the execution covered hands that cover to another, giving back the other's own.
   */
  leave(group: Group, subscriber: Subscriber): void {
    if (!group.subscribers.delete(subscriber)) return;
    const covered = subscriber.release === undefined;
    this.#detach(subscriber);
    if (group.ended) return;
    if (group.subscribers.size === 0) {
      this.#close(group);
      Promise.resolve(group.source?.return?.()).catch((error: unknown) => this.options.onFailure?.(error));
      return;
    }
    if (covered) {
      for (const other of group.subscribers) {
        if (other.release) {
          this.#giveBack(other);
          break;
        }
      }
    }
  }

  /** Groups and subscribers now (for metrics and tests). */
  get sizes(): GroupSizes {
    const bySize = Object.fromEntries(GROUP_SIZE_BUCKETS.map((bucket) => [bucket, 0])) as Record<GroupSizeBucket, number>;
    let subscribers = 0;
    for (const group of this.#groups.values()) {
      subscribers += group.subscribers.size;
      bySize[bucketOf(group.subscribers.size)] += 1;
    }
    return { groups: this.#groups.size, subscribers, bySize };
  }

  async #start(group: Group, request: JoinRequest): Promise<ExecutionResult | undefined> {
    let result: AsyncIterable<ExecutionResult> | ExecutionResult;
    try {
      result = await request.execute!();
    } catch (error) {
      result = this.#failed(error);
    }
    if (!(Symbol.asyncIterator in result)) {
      this.#close(group);
      return result;
    }
    group.source = result[Symbol.asyncIterator]();
    group.weight = request.weight?.() ?? 1;
    return undefined;
  }

  #attach(group: Group, subscriber: Subscriber, release: (() => void) | undefined, expiresAt: number | undefined): void {
    subscriber.group = group;
    subscriber.release = release;
    group.subscribers.add(subscriber);
    if (expiresAt !== undefined) subscriber.cancelExpiry = atExpiry(expiresAt, () => this.#expired(group, subscriber));
    if (group.last) subscriber.deliver(group.last);
  }

  /** Reads the execution's events and sends each to every subscriber; its end completes them all. */
  async #pump(group: Group): Promise<void> {
    try {
      for (;;) {
        const next = await group.source!.next();
        if (next.done) break;
        this.#publish(group, next.value);
      }
    } catch (error) {
      this.#publish(group, this.#failed(error));
    }
    this.#close(group);
    for (const subscriber of group.subscribers) {
      this.#detach(subscriber);
      subscriber.finish();
    }
    group.subscribers.clear();
  }

  #publish(group: Group, result: ExecutionResult): void {
    if (group.ended) return;
    const event = new GroupEvent(result);
    group.last = event;
    for (const subscriber of group.subscribers) subscriber.deliver(event);
    this.options.onEvent?.(group.subscribers.size);
  }

  /** A token expired: that subscriber alone is told so and leaves; the group goes on for the others. */
  #expired(group: Group, subscriber: Subscriber): void {
    if (subscriber.group !== group) return;
    const error = new GraphQLError('The token has expired: sign in again and subscribe again.', {
      path: group.path,
      extensions: { code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' },
    });
    subscriber.deliver(new GroupEvent({ errors: [error] }));
    this.leave(group, subscriber);
    subscriber.finish();
  }

  #failed(error: unknown): ExecutionResult {
    if (error instanceof GraphQLError) return { errors: [error] };
    this.options.onFailure?.(error);
    return { errors: [new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
  }

  /** A subscriber out of its group: its expiry timer stopped, its places given back. */
  #detach(subscriber: Subscriber): void {
    subscriber.group = undefined;
    subscriber.cancelExpiry?.();
    this.#giveBack(subscriber);
  }

  #giveBack(subscriber: Subscriber): void {
    const release = subscriber.release;
    subscriber.release = undefined;
    release?.();
  }

  #close(group: Group): void {
    group.ended = true;
    if (this.#groups.get(group.key) === group) this.#groups.delete(group.key);
  }
}
