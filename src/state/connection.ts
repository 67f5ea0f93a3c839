/**
 * The gateway's one Redis (REDIS_URL): a command connection shared by the state store, the
 * shared cache, the coordination of poll loops and the shared limits, and a second connection
 * for pub/sub, which Redis gives a connection of its own. Commands fail fast while Redis is away
 * (no offline queue, a short deadline); both connections reconnect by themselves.
 *
 * A deadline does not stop a command: one sent to a Redis that is asleep or paused runs when it
 * wakes. So a write whose caller was told it failed is undone behind it (`undo`), and once a
 * command missed its deadline Redis counts as slow: what has a fallback of its own uses it
 * (`skipWhileSlow`) until Redis answers quickly again.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, ErrorReply, type RedisClientType } from '@redis/client';
import type { Logger } from '../observability/logger.ts';
import { InvalidCursorError, stateStoreUnavailable } from './store.ts';

/** REDIS_COMMAND_TIMEOUT_MS's default. */
const COMMAND_TIMEOUT_MS = 2000;
/** How long a write that must land is sent again while Redis is away or busy, in command deadlines (30 s on the defaults). */
const PERSIST_DEADLINES = 15;
/** Redis's answers that mean "not now" rather than "no": loading its data, busy with a script, failing over. */
const TEMPORARY = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

/** Whether an attempt failed for a while only: Redis away, slow, or answering one of the errors above. */
function temporary(error: unknown): boolean {
  const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
  return !(cause instanceof ErrorReply) || TEMPORARY.test(cause.message);
}

/** Reconnection: quickly at first, then every 2 s, for as long as it takes. */
const reconnectDelay = (retries: number) => Math.min(50 * 2 ** retries, 2000);

export type RedisClient = RedisClientType;

export interface RunOptions {
  /**
   * Reverses the write if it takes effect after its caller was told it failed. The work must send
   * its write as one command (a script, a MULTI), so that no part of it follows the undo.
   */
  undo?: (client: RedisClient) => Promise<unknown>;
  /** The caller has a fallback of its own: while Redis is slow, fail at once rather than wait. */
  skipWhileSlow?: boolean;
}

export class RedisConnection {
  /** This process among the instances sharing the Redis. */
  readonly instance = randomUUID();
  readonly client: RedisClient;
  #subscriber?: RedisClient;
  #down = false;
  #slow = false;
  #closed = false;
  readonly #onReady = new Set<() => void>();

  constructor(
    url: string,
    readonly prefix: string,
    private readonly logger: Logger,
    /** A command that takes longer than this has failed. */
    private readonly timeoutMs = COMMAND_TIMEOUT_MS,
  ) {
    this.client = this.#connect(url, 'commands');
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  /** A command missed its deadline, and Redis has not answered quickly since. */
  get slow(): boolean {
    return this.#slow;
  }

  /** Told each time the pub/sub connection is (re)established: what was published meanwhile was missed. */
  onReconnect(listener: () => void): () => void {
    this.#onReady.add(listener);
    return () => this.#onReady.delete(listener);
  }

  /**
   * Runs commands under a deadline; any failure is the store being unavailable. While the first
   * connection is being made commands wait for it; once Redis was found away they fail at once.
   * A command that misses its deadline makes Redis slow (see #probe).
   */
  async run<T>(work: (client: RedisClient) => Promise<T>, { undo, skipWhileSlow = false }: RunOptions = {}): Promise<T> {
    if (skipWhileSlow && this.#slow) throw stateStoreUnavailable(new Error('Redis is slow'));
    if (!this.client.isReady && (this.#down || !(await this.#connected(this.client)))) throw stateStoreUnavailable();
    let timer: NodeJS.Timeout | undefined;
    let answered = false;
    const deadline = new Promise<never>((_, reject) => {
      // Looked at once the socket was read (setImmediate runs after I/O): an answer that waited
      // there while this process was busy came in time, and says nothing of Redis being slow.
      timer = setTimeout(
        () =>
          setImmediate(() => {
            if (answered) return;
            this.#missedDeadline();
            reject(stateStoreUnavailable(new Error(`Redis did not answer within ${this.timeoutMs} ms`)));
          }),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([work(this.client).finally(() => (answered = true)), deadline]);
    } catch (error) {
      if (undo) this.#undo(undo);
      if (error instanceof InvalidCursorError) throw error;
      throw stateStoreUnavailable(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A write that must land: what the gateway learned from a spend (its outcome, its ledger entry),
   * or the release of a claim that spent nothing. Sent again, each time under the deadline, while
   * Redis is away, slow or answers a temporary error, until Redis answers it or 15 deadlines passed
   * (then it fails, and its caller logs what it could not record). The write must be one that may
   * land twice: a late first attempt and a second one leave the same record.
   */
  async persist<T>(work: (client: RedisClient) => Promise<T>): Promise<T> {
    const until = Date.now() + PERSIST_DEADLINES * this.timeoutMs;
    for (;;) {
      try {
        return await this.run(work);
      } catch (error) {
        if (this.#closed || Date.now() >= until || !temporary(error)) throw error;
        if (!this.client.isReady) await this.#connected(this.client);
        else await sleep(Math.min(this.timeoutMs, 200), undefined, { ref: false });
      }
    }
  }

  /** Listens to a channel (prefixed) until the returned function is called. */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    const subscriber = this.#subscriberClient();
    const name = this.prefix + channel;
    if (!subscriber.isReady && !(await this.#connected(subscriber))) throw stateStoreUnavailable();
    await this.run(() => subscriber.subscribe(name, listener));
    return async () => {
      if (subscriber.isReady) await subscriber.unsubscribe(name, listener).catch(() => undefined);
    };
  }

  publish(channel: string, message: string): Promise<number> {
    return this.run((client) => client.publish(this.prefix + channel, message));
  }

  /**
   * Closes both connections, letting what was sent be answered for a deadline at most: a command
   * queued while Redis is away would otherwise hold the close, and the process, for ever.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [this.client, this.#subscriber].map(async (client) => {
        if (!client?.isOpen) return;
        const closed = client.close().catch(() => undefined);
        if ((await Promise.race([closed.then(() => true), sleep(this.timeoutMs, false, { ref: false })])) === false) client.destroy();
      }),
    );
  }

  #subscriberClient(): RedisClient {
    if (!this.#subscriber) {
      this.#subscriber = this.client.duplicate() as RedisClient;
      this.#subscriber.on('error', (error: Error) => this.#went(error));
      this.#subscriber.on('ready', () => {
        for (const listener of this.#onReady) listener();
      });
      this.#subscriber.connect().catch((error: unknown) => this.#went(error));
    }
    return this.#subscriber;
  }

  #connect(url: string, role: string): RedisClient {
    const client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: this.timeoutMs, reconnectStrategy: reconnectDelay },
    }) as RedisClient;
    client.on('error', (error: Error) => this.#went(error));
    client.on('ready', () => {
      if (this.#down) this.logger.warn({ connection: role }, 'Redis is reachable again');
      this.#down = false;
    });
    // Never awaited: the gateway serves reads while Redis is away, and the client reconnects by itself.
    client.connect().catch((error: unknown) => this.#went(error));
    return client;
  }

  /** Waits, a command's deadline at most, for a connection being made. */
  #connected(client: RedisClient): Promise<boolean> {
    return new Promise((resolve) => {
      const ready = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        client.off('ready', ready);
        resolve(false);
      }, this.timeoutMs);
      client.once('ready', ready);
    });
  }

  /**
   * Sends `undo` for a write its caller was told failed, in case it takes effect after all. At
   * once and on the same connection, so behind the write: Redis runs the commands of one
   * connection in the order they arrive, and the undo takes effect after the write if the write
   * ever does. It has no deadline of its own and waits for Redis however slow. If the connection
   * breaks first, the write reached Redis before the break or never will, and the undo is sent
   * again once Redis is back, until it is answered or the gateway stops.
   */
  #undo(undo: (client: RedisClient) => Promise<unknown>): void {
    const attempt = async (): Promise<void> => {
      try {
        await undo(this.client);
      } catch (error) {
        if (this.#closed || !temporary(error)) {
          this.logger.error({ err: error }, 'a Redis write that missed its deadline could not be undone: it may take effect');
          return;
        }
        if (!this.client.isReady) await this.#connected(this.client);
        return attempt();
      }
    };
    void attempt();
  }

  #missedDeadline(): void {
    if (this.#slow) return;
    this.#slow = true;
    this.logger.warn(
      { deadlineMs: this.timeoutMs },
      'Redis is slow: a command missed its deadline; limits and the catalogue do without it until it answers quickly',
    );
    void this.#probe();
  }

  /**
   * PINGs, one at a time, until a PING is answered within the deadline. Redis answers a
   * connection's commands in order, so a quick answer means everything sent before it has been
   * answered too: Redis has caught up.
   */
  async #probe(): Promise<void> {
    while (this.#slow && !this.#closed) {
      const sent = performance.now();
      try {
        await this.client.ping();
        if (performance.now() - sent < this.timeoutMs) this.#slow = false;
      } catch {
        await sleep(this.timeoutMs, undefined, { ref: false }); // away: the client is reconnecting
      }
    }
    if (!this.#slow) this.logger.warn('Redis answers quickly again');
  }

  #went(error: unknown): void {
    if (this.#down) return;
    this.#down = true;
    this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'Redis is unreachable');
  }
}
