/**
 * The body of a delivery: the event, with the order (SMS order, refill) as the GraphQL type shows
 * it to the endpoint's owner. The wholesale charge only with `account:read`, as in the schema.
 */
import type { RecordedEvent } from '../events/types.ts';
import { isFinalOrder, isFinalRefill, isFinalSms } from '../supplier/states.ts';
import type { OrderState, RefillState, SmsOrderState } from '../supplier/types.ts';

/** The fields of each GraphQL type that come from the supplier's state, `charge` included. */
const FIELDS = {
  order: ['id', 'status', 'rawStatus', 'charge', 'startCount', 'remains', 'autoDelivery', 'entityType', 'accounts'],
  sms: ['id', 'phone', 'country', 'status', 'rawStatus', 'code', 'smsContent', 'charge', 'expiresAt'],
  refill: ['id', 'orderId', 'status', 'rawStatus'],
} as const;

function isFinal(event: RecordedEvent): boolean {
  if (event.kind === 'order') return isFinalOrder(event.state as unknown as OrderState);
  if (event.kind === 'sms') return isFinalSms(event.state as unknown as SmsOrderState);
  return isFinalRefill(event.state as unknown as RefillState);
}

function shown(event: RecordedEvent, scopes: readonly string[]): Record<string, unknown> {
  const fields = FIELDS[event.kind].filter((name) => name !== 'charge' || scopes.includes('account:read'));
  return { ...Object.fromEntries(fields.map((name) => [name, event.state[name] ?? null])), isFinal: isFinal(event) };
}

export function webhookBody(event: RecordedEvent, scopes: readonly string[]): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.at,
    data: { eventId: event.id, version: event.version, kind: event.kind, order: shown(event, scopes) },
  });
}
