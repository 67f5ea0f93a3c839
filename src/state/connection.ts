/**
 * The gateway's one Redis (REDIS_URL): a command connection shared by the state store, the
 * shared cache, the coordination of poll loops and the shared limits, and a second connection
 * for pub/sub, which Redis gives a connection of its own. Commands fail fast while Redis is away
 * (no offline queue, a short deadline); both connections reconnect by themselves.
 */
import { randomUUID } from 'node:crypto';
import { type RedisClientType, createClient } from '@redis/client';
import type { Logger } from '../logger.ts';
import { InvalidCursorError, stateStoreUnavailable } from './store.ts';

/** A command that takes longer than this counts as Redis being away. */
const COMMAND_TIMEOUT_MS = 2000;
/** Reconnection: quickly at first, then every 2 s, for as long as it takes. */
const reconnectDelay = (retries: number) => Math.min(50 * 2 ** retries, 2000);

export type RedisClient = RedisClientType;

export class RedisConnection {
  /** This process among the instances sharing the Redis. */
  readonly instance = randomUUID();
  readonly client: RedisClient;
  #subscriber?: RedisClient;
  #down = false;
  readonly #onReady = new Set<() => void>();

  constructor(
    url: string,
    readonly prefix: string,
    private readonly logger: Logger,
  ) {
    this.client = this.#connect(url, 'commands');
  }

  get ready(): boolean {
    return this.client.isReady;
  }

  /** Told each time the pub/sub connection is (re)established: what was published meanwhile was missed. */
  onReconnect(listener: () => void): () => void {
    this.#onReady.add(listener);
    return () => this.#onReady.delete(listener);
  }

  /**
   * Runs commands under a deadline; any failure is the store being unavailable. While the first
   * connection is being made commands wait for it; once Redis was found away they fail at once.
   */
  async run<T>(work: (client: RedisClient) => Promise<T>): Promise<T> {
    if (!this.client.isReady && (this.#down || !(await this.#connected(this.client)))) throw stateStoreUnavailable();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(stateStoreUnavailable(new Error('Redis command timed out'))), COMMAND_TIMEOUT_MS);
    });
    try {
      return await Promise.race([work(this.client), deadline]);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw error;
      throw stateStoreUnavailable(error);
    } finally {
      clearTimeout(timer);
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

  async close(): Promise<void> {
    await Promise.all([this.client, this.#subscriber].map((client) => (client?.isOpen ? client.close() : undefined)));
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
      socket: { connectTimeout: COMMAND_TIMEOUT_MS, reconnectStrategy: reconnectDelay },
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
      }, COMMAND_TIMEOUT_MS);
      client.once('ready', ready);
    });
  }

  #went(error: unknown): void {
    if (this.#down) return;
    this.#down = true;
    this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'Redis is unreachable');
  }
}
