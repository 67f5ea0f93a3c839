/**
 * What changed, recorded once: each state change of an order, SMS order or refill that the
 * gateway follows is an event with a version that only grows per order. The change feed
 * (`orderEvents`) reads the events of a caller; webhooks deliver them. In Redis with REDIS_URL,
 * in this process without it.
 */

export type EventType = 'order.updated' | 'sms_order.updated' | 'refill.updated';

export type FollowedKind = 'order' | 'sms' | 'refill';

export interface RecordedEvent {
  /** `evt_` and a random id: the `webhook-id` of every delivery of it, so receivers dedupe by it. */
  id: string;
  type: EventType;
  tenant: string;
  /** The callers who see it: the order's owner, and the backend that placed it for them. */
  callers: string[];
  kind: FollowedKind;
  /** The order's (SMS order's, refill's) supplier id. */
  orderId: string;
  /** 1 for the first state recorded, one more for each change after it. */
  version: number;
  /** ISO-8601: when the gateway saw the change. */
  at: string;
  /** The state as the supplier said it: OrderState, SmsOrderState, or RefillState with its orderId. */
  state: Record<string, unknown>;
}

/**
 * Events recorded and not yet handed to the webhook endpoints of their callers: written in the
 * same step as the event, so a crash between the two loses nothing. Each entry is taken by one
 * instance at a time (a lease); an entry whose lease lapses is taken again.
 */
export interface Outbox {
  take(max: number, leaseMs: number): Promise<Array<{ event: RecordedEvent; receipt: string }>>;
  /** The entry was handed on (its deliveries written): it leaves the outbox. */
  done(receipt: string): Promise<void>;
}
