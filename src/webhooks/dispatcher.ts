/**
 * Delivers at least once. On every instance, a loop: events taken from the outbox become one
 * delivery per matching enabled endpoint of each of their callers, written before the outbox
 * entry is let go (so a crash between the two writes them again, under the same ids); then due
 * deliveries are claimed (one instance per attempt, a lease, a fence) and sent, each result
 * recorded under its fence and the next attempt scheduled.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Outbox, RecordedEvent } from '../events/types.ts';
import type { Logger } from '../observability/logger.ts';
import { webhookBody } from './payload.ts';
import { DISABLE_AFTER_MS, retryDelay, type RetryPolicy } from './schedule.ts';
import type { AttemptResult, WebhookSender } from './sender.ts';
import type { AttemptRecord, Claim, WebhookDelivery, WebhookEndpoint, WebhookStore } from './store.ts';

/** How often an idle instance looks for events and due deliveries. */
const POLL_MS = 100;
/** Events taken from the outbox at once, and how long they are this instance's to hand on. */
const OUTBOX_BATCH = 100;
const OUTBOX_LEASE_MS = 30_000;
/** The pending gauge is read from the store at most this often. */
const PENDING_EVERY_MS = 1000;

export type DeliveryOutcome = 'delivered' | 'failed_attempt' | 'gave_up' | 'refused_address';

export interface DispatcherOptions {
  store: WebhookStore;
  sender: Pick<WebhookSender, 'send' | 'close'>;
  policy: RetryPolicy;
  timeoutMs: number;
  /** Attempts in flight at once on this instance. */
  concurrency: number;
  onAttempt: (outcome: DeliveryOutcome) => void;
  logger: Logger;
}

/** One id per event and endpoint: an event handed on twice writes its deliveries once. */
const deliveryId = (eventId: string, endpointId: string) =>
  `whd_${createHash('sha256').update(`${eventId}\n${endpointId}`).digest('base64url').slice(0, 24)}`;

const subscribed = (endpoint: WebhookEndpoint, event: RecordedEvent) =>
  endpoint.enabled && (endpoint.events.length === 0 || endpoint.events.includes(event.type));

export class WebhookDispatcher {
  readonly #inFlight = new Set<Promise<void>>();
  #running?: Promise<void>;
  #stopping = new AbortController();
  #pending = 0;
  #pendingReadAt = 0;
  #failing = false;
  #outbox?: Outbox;

  constructor(private readonly options: DispatcherOptions) {}

  /** Deliveries waiting for an attempt, as last read. */
  get pending(): number {
    return this.#pending;
  }

  /** Hands on the outbox's events, and sends what is due. */
  start(outbox: Outbox): void {
    this.#outbox = outbox;
    this.#running ??= this.#loop();
  }

  /** Stops taking work; attempts in flight finish, or are left to their lease, after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping.abort();
    await this.#running;
    await Promise.race([Promise.all(this.#inFlight), sleep(graceMs, undefined, { ref: false })]);
    await this.options.sender.close();
  }

  /** One round: events handed on, due deliveries started. Resolves whether there was any. */
  async #round(now: number): Promise<boolean> {
    const handedOn = await this.#handOn(now);
    const started = await this.#startDue(now);
    if (now - this.#pendingReadAt >= PENDING_EVERY_MS) {
      this.#pendingReadAt = now;
      this.#pending = await this.options.store.pending();
    }
    return handedOn + started > 0;
  }

  /**
   * Rounds back to back while there is work, so a burst of events waits for attempt slots rather
   * than for the poll interval; idle, one round per POLL_MS.
   */
  async #loop(): Promise<void> {
    const signal = this.#stopping.signal;
    // One listener for the whole loop: a wait per round on the signal would add one each time.
    const stopped = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    while (!signal.aborted) {
      let busy = false;
      try {
        busy = await this.#round(Date.now());
        if (this.#failing) this.options.logger.warn('webhooks: the store answers again');
        this.#failing = false;
      } catch (error) {
        if (!this.#failing) this.options.logger.warn({ err: (error as Error).message }, 'webhooks: the store is unavailable, retrying');
        this.#failing = true;
      }
      const full = this.#inFlight.size >= this.options.concurrency;
      if (busy && !full) continue;
      let timer: NodeJS.Timeout | undefined;
      const pause = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, POLL_MS);
        timer.unref();
      });
      const waits: Array<Promise<unknown>> = [pause, stopped];
      if (full) waits.push(Promise.race(this.#inFlight));
      await Promise.race(waits);
      clearTimeout(timer);
    }
  }

  /** Each event's deliveries written before its entry leaves the outbox. Resolves how many events. */
  async #handOn(now: number): Promise<number> {
    const { store } = this.options;
    const outbox = this.#outbox;
    if (!outbox) return 0;
    const taken = await outbox.take(OUTBOX_BATCH, OUTBOX_LEASE_MS);
    await Promise.all(
      taken.map(async ({ event, receipt }) => {
        const endpoints = (await Promise.all(event.callers.map((caller) => store.endpoints({ tenant: event.tenant, caller })))).flat();
        const matching = endpoints.filter((endpoint) => subscribed(endpoint, event));
        await store.enqueue(matching.map((endpoint) => this.#delivery(event, endpoint, now)));
        await outbox.done(receipt);
      }),
    );
    return taken.length;
  }

  #delivery(event: RecordedEvent, endpoint: WebhookEndpoint, now: number): WebhookDelivery {
    return {
      id: deliveryId(event.id, endpoint.id),
      endpointId: endpoint.id,
      tenant: endpoint.tenant,
      caller: endpoint.caller,
      eventId: event.id,
      eventType: event.type,
      body: webhookBody(event, endpoint.scopes),
      status: 'PENDING',
      attempts: 0,
      lastStatusCode: null,
      lastError: null,
      nextAttemptAt: now,
      deliveredAt: null,
      createdAt: now,
    };
  }

  /** Claims what is due, as many as there are free slots, and starts each. Resolves how many. */
  async #startDue(now: number): Promise<number> {
    const free = this.options.concurrency - this.#inFlight.size;
    if (free <= 0 || this.#stopping.signal.aborted) return 0;
    // The lease outlasts the attempt's own timeout, so only a dead instance's attempts are taken again.
    const claims = await this.options.store.claim(now, free, this.options.timeoutMs + 5000);
    for (const claim of claims) {
      const attempt = this.#attempt(claim)
        .catch((error: unknown) => this.options.logger.warn({ err: (error as Error).message }, 'webhooks: an attempt was not recorded'))
        .finally(() => this.#inFlight.delete(attempt));
      this.#inFlight.add(attempt);
    }
    return claims.length;
  }

  async #attempt({ delivery, fence }: Claim): Promise<void> {
    const { store } = this.options;
    const endpoint = await store.endpointById(delivery.endpointId);
    if (!endpoint?.enabled) {
      const error = endpoint ? `endpoint disabled: ${endpoint.disabledReason ?? ''}` : 'endpoint deleted';
      await this.#record(delivery.id, fence, { ...stopped(delivery), lastError: error }, 'gave_up');
      return;
    }
    const result = await this.options.sender.send(endpoint, delivery);
    const now = Date.now();
    if (result.outcome === 'delivered') {
      await store.endpointOutcome(endpoint.id, 'ok', now, DISABLE_AFTER_MS * this.options.policy.scale);
      const record: AttemptRecord = {
        status: 'DELIVERED',
        lastStatusCode: result.statusCode,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: now,
      };
      await this.#record(delivery.id, fence, record, 'delivered');
      return;
    }
    const gone = result.outcome === 'failed' && result.statusCode === 410;
    await store.endpointOutcome(endpoint.id, gone ? 'gone' : 'failed', now, DISABLE_AFTER_MS * this.options.policy.scale);
    const delay = gone ? undefined : retryDelay(delivery.attempts, this.options.policy, retryAfter(result));
    const record: AttemptRecord = {
      status: delay === undefined ? 'FAILED' : 'PENDING',
      lastStatusCode: result.outcome === 'failed' ? result.statusCode : null,
      lastError: result.error,
      nextAttemptAt: delay === undefined ? null : now + delay,
      deliveredAt: null,
    };
    this.options.onAttempt(result.outcome === 'refused_address' ? 'refused_address' : 'failed_attempt');
    await this.#record(delivery.id, fence, record, delay === undefined ? 'gave_up' : undefined);
  }

  async #record(id: string, fence: number, record: AttemptRecord, outcome?: DeliveryOutcome): Promise<void> {
    // A late result (the lease lapsed and another instance took the attempt) changes nothing.
    if ((await this.options.store.settle(id, fence, record)) && outcome) this.options.onAttempt(outcome);
  }
}

const retryAfter = (result: AttemptResult) => (result.outcome === 'failed' ? result.retryAfterMs : undefined);

const stopped = (delivery: WebhookDelivery): AttemptRecord => ({
  status: 'FAILED',
  lastStatusCode: delivery.lastStatusCode,
  lastError: delivery.lastError,
  nextAttemptAt: null,
  deliveredAt: null,
});
