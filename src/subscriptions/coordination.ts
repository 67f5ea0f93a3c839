/**
 * One poll loop per watched order across every instance on one Redis. Built from Redis
 * primitives rather than a lease library, since the lease, the last state and the fan-out must
 * move together:
 *
 * - a lease (`SET NX PX`, renewed at every poll) names the instance that polls; its random token
 *   is the fence: only the holder's events are recorded and published, so a paused poller that
 *   lost its lease cannot publish over its successor;
 * - the last event is stored with a sequence number, so a watcher anywhere gets the current state
 *   at once, and an instance that missed messages (its pub/sub connection dropped) reads it again;
 * - pub/sub fans each event out to the instances with watchers, which deliver it once by sequence.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from '../state/connection.ts';

/** What a loop tells its watchers: a state, or the error that ends it; `final` ends it either way. */
export interface LoopEvent<T> {
  /** Increasing while one Redis keeps its data; `lease` tells a new count (Redis restarted empty) from a repeat. */
  seq: number;
  /** The lease token of the instance that published it. */
  lease: string;
  state?: T;
  error?: { message: string; extensions: Record<string, unknown> };
  final: boolean;
}

export interface Membership<T> {
  last?: LoopEvent<T>;
  leave(): Promise<void>;
}

/** What the poll hub needs to share loops between instances. */
export interface Coordination {
  readonly ready: boolean;
  /** Listens to a loop's events (and its poller resigning) and resolves the last event recorded. */
  join<T>(id: string, onEvent: (event: LoopEvent<T>) => void, onResign: () => void): Promise<Membership<T>>;
  /** Takes the lease if nobody holds it: resolves its token, or undefined. */
  lead(id: string, ttlMs: number): Promise<string | undefined>;
  /** Keeps the lease; false once it was lost. */
  renew(id: string, token: string, ttlMs: number): Promise<boolean>;
  /** Records and publishes the next event while `token` holds the lease: its sequence, or undefined. */
  publish<T>(id: string, token: string, event: Omit<LoopEvent<T>, 'seq' | 'lease'>, keepMs: number): Promise<number | undefined>;
  /** Gives up the lease and tells the others at once. */
  resign(id: string, token: string): Promise<void>;
  read<T>(id: string): Promise<LoopEvent<T> | undefined>;
  /** Told when pub/sub came back after a drop: events may have been missed. */
  onReconnect(listener: () => void): () => void;
}

/** KEYS: lease, sequence, last. ARGV: token, event JSON without seq, keep ms, channel. */
const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
local seq = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local event = '{"seq":' .. seq .. ',' .. string.sub(ARGV[2], 2)
redis.call('SET', KEYS[3], event, 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], event)
return seq`;

/** KEYS: lease. ARGV: token, ttl ms. */
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** KEYS: lease. ARGV: token, channel. */
const RESIGN = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[2], '{"resign":true}')
return 1`;

const RESIGNED = '{"resign":true}';

export class RedisCoordination implements Coordination {
  constructor(private readonly redis: RedisConnection) {}

  get ready(): boolean {
    return this.redis.ready;
  }

  async join<T>(id: string, onEvent: (event: LoopEvent<T>) => void, onResign: () => void): Promise<Membership<T>> {
    const leave = await this.redis.subscribe(this.#channel(id), (message) => {
      if (message === RESIGNED) onResign();
      else onEvent(JSON.parse(message) as LoopEvent<T>);
    });
    try {
      return { last: await this.read<T>(id), leave };
    } catch (error) {
      await leave();
      throw error;
    }
  }

  async lead(id: string, ttlMs: number): Promise<string | undefined> {
    const token = `${this.redis.instance}:${randomUUID()}`;
    const taken = await this.redis.run((client) => client.set(this.#key(id, 'lease'), token, { NX: true, PX: Math.ceil(ttlMs) }));
    return taken === 'OK' ? token : undefined;
  }

  async renew(id: string, token: string, ttlMs: number): Promise<boolean> {
    const kept = await this.redis.run((client) =>
      client.eval(RENEW, { keys: [this.#key(id, 'lease')], arguments: [token, String(Math.ceil(ttlMs))] }),
    );
    return kept === 1;
  }

  async publish<T>(id: string, token: string, event: Omit<LoopEvent<T>, 'seq' | 'lease'>, keepMs: number): Promise<number | undefined> {
    const keys = [this.#key(id, 'lease'), this.#key(id, 'seq'), this.#key(id, 'last')];
    const args = [token, JSON.stringify({ lease: token, ...event }), String(Math.ceil(keepMs)), this.redis.prefix + this.#channel(id)];
    const seq = await this.redis.run((client) => client.eval(PUBLISH, { keys, arguments: args }));
    return typeof seq === 'number' ? seq : undefined;
  }

  async resign(id: string, token: string): Promise<void> {
    await this.redis.run((client) =>
      client.eval(RESIGN, { keys: [this.#key(id, 'lease')], arguments: [token, this.redis.prefix + this.#channel(id)] }),
    );
  }

  async read<T>(id: string): Promise<LoopEvent<T> | undefined> {
    const raw = await this.redis.run((client) => client.get(this.#key(id, 'last')));
    return typeof raw === 'string' ? (JSON.parse(raw) as LoopEvent<T>) : undefined;
  }

  onReconnect(listener: () => void): () => void {
    return this.redis.onReconnect(listener);
  }

  #key(id: string, part: string) {
    return `${this.redis.prefix}loop:${id}:${part}`;
  }

  #channel(id: string) {
    return `loop:${id}`;
  }
}
