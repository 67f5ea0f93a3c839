/**
 * What webhooks must not lose: each caller's endpoints with their secrets, and each delivery with
 * where it stands. In this process (memory-store.ts) or in Redis (redis-store.ts), behind this
 * interface. A delivery is claimed for one attempt at a time: the claim holds a lease (the
 * delivery is due again when it lapses) and a fence, so the result of an attempt whose lease
 * lapsed, reported late by another instance, is ignored.
 */
import type { EventType } from '../events/types.ts';

export interface Owner {
  tenant: string;
  caller: string;
}

/** A signing secret; the previous one after a rotation signs too until `expiresAt` (ms). */
export interface Secret {
  value: string;
  expiresAt?: number;
}

export interface WebhookEndpoint extends Owner {
  id: string;
  url: string;
  /** The event types it receives; empty: all. */
  events: EventType[];
  /** The creator's scopes when it was created: what its deliveries show. */
  scopes: string[];
  /** Newest first. */
  secrets: Secret[];
  enabled: boolean;
  disabledReason: string | null;
  createdAt: string;
  /** When the first failure after its last success happened (ms); null while it succeeds. */
  failingSince: number | null;
}

type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export interface WebhookDelivery extends Owner {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: EventType;
  /** The JSON body, fixed when the delivery is written: every attempt sends the same bytes. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
}

/** A delivery claimed for one attempt: `fence` must come back with its result. */
export interface Claim {
  delivery: WebhookDelivery;
  fence: number;
}

/** What an attempt changed; `nextAttemptAt` null takes the delivery off the due list. */
export type AttemptRecord = Pick<WebhookDelivery, 'status' | 'lastStatusCode' | 'lastError' | 'nextAttemptAt' | 'deliveredAt'>;

/** What an attempt says about its endpoint: it answered, it failed, or it is gone (410). */
export type EndpointOutcome = 'ok' | 'failed' | 'gone';

export interface DeliveryPage {
  deliveries: WebhookDelivery[];
  hasNextPage: boolean;
  totalCount: number;
}

export interface WebhookStore {
  addEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  /** The owner's endpoint; undefined for another's exactly as for a missing one. */
  endpoint(owner: Owner, id: string): Promise<WebhookEndpoint | undefined>;
  /** Any endpoint by id, for the dispatcher. */
  endpointById(id: string): Promise<WebhookEndpoint | undefined>;
  /** The owner's endpoints, oldest first. */
  endpoints(owner: Owner): Promise<WebhookEndpoint[]>;
  deleteEndpoint(owner: Owner, id: string): Promise<boolean>;
  setSecrets(id: string, secrets: Secret[]): Promise<void>;
  /**
   * Records an attempt's verdict on its endpoint: success clears `failingSince`, a failure sets it
   * if unset and disables the endpoint once it is `disableAfterMs` old, 410 disables it at once.
   */
  endpointOutcome(id: string, outcome: EndpointOutcome, now: number, disableAfterMs: number): Promise<void>;
  /** Writes deliveries due now; one already written (same id) is left as it is. */
  enqueue(deliveries: WebhookDelivery[]): Promise<void>;
  /** Atomically takes up to `max` due deliveries, each due again `leaseMs` from now unless settled. */
  claim(now: number, max: number, leaseMs: number): Promise<Claim[]>;
  /** Records an attempt, unless the delivery was claimed again since (fence): resolves whether it was. */
  settle(id: string, fence: number, record: AttemptRecord): Promise<boolean>;
  /** The owner's deliveries of one endpoint, newest first. */
  deliveries(owner: Owner, endpointId: string, first: number, after?: string): Promise<DeliveryPage>;
  delivery(owner: Owner, id: string): Promise<WebhookDelivery | undefined>;
  /** Due again now with a fresh schedule; an attempt in flight is fenced off. */
  redeliver(owner: Owner, id: string, now: number): Promise<WebhookDelivery | undefined>;
  /** Deliveries waiting for an attempt. */
  pending(): Promise<number>;
}

/** Why an endpoint was disabled, as `disabledReason` says it. */
export const GONE = 'GONE: the endpoint answered 410 Gone';
export const FAILING = 'FAILING: no successful delivery for 5 days while attempts failed';

/** Deliveries are listed this long after they were written. */
export const DELIVERY_RETENTION_MS = 30 * 86_400_000;

/** Returned by the store when a cursor names no delivery of the list. */
export class UnknownCursorError extends Error {
  override name = 'UnknownCursorError';
}
