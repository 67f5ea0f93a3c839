/**
 * What a caller does with its endpoints: create one (its URL checked, its secret shown once),
 * rotate its secret (the previous one signs beside it for a day), list and delete them. Each
 * caller sees its own only: another's id is NOT_FOUND exactly as a missing one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Identity } from '../auth/authenticator.ts';
import { scopesOf } from '../auth/scopes.ts';
import { badInput, GatewayError } from '../errors.ts';
import type { EventType } from '../events/types.ts';
import { checkWebhookUrl, type Resolve } from './address-guard.ts';
import type { Owner, WebhookEndpoint, WebhookStore } from './store.ts';

export const EVENT_TYPES: readonly EventType[] = ['order.updated', 'sms_order.updated', 'refill.updated'];

/** Endpoints one caller may have: each event is sent to every one of them. */
const MAX_ENDPOINTS_PER_CALLER = 20;

/** How long the previous secret still signs after a rotation, so receivers can switch without losing a delivery. */
const ROTATION_OVERLAP_MS = 24 * 3_600_000;

type Caller = Extract<Identity, { ok: true }>;

/** `whsec_` and 32 random bytes in base64, the Standard Webhooks form. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const notFound = (what: string) => new GatewayError('NOT_FOUND', `No such ${what}.`);

export const ownerOf = (caller: Caller): Owner => ({ tenant: caller.tenant, caller: caller.caller });

function eventTypes(events: readonly string[] | null | undefined): EventType[] {
  const unknown = (events ?? []).filter((event) => !(EVENT_TYPES as readonly string[]).includes(event));
  if (unknown.length > 0)
    throw badInput(`Unknown event type ${JSON.stringify(unknown[0])}: use ${EVENT_TYPES.join(', ')}.`, { field: 'events' });
  return [...new Set(events ?? [])] as EventType[];
}

export interface WebhookSettings {
  allowPrivate: boolean;
  resolve?: Resolve;
}

export async function createEndpoint(
  store: WebhookStore,
  settings: WebhookSettings,
  caller: Caller,
  input: { url: string; events?: readonly string[] | null },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const events = eventTypes(input.events);
  const url = await checkWebhookUrl(input.url.trim(), settings.allowPrivate, settings.resolve);
  const owner = ownerOf(caller);
  if ((await store.endpoints(owner)).length >= MAX_ENDPOINTS_PER_CALLER)
    throw badInput(`A caller may have ${MAX_ENDPOINTS_PER_CALLER} webhook endpoints: delete one first.`, { field: 'url' });
  const secret = newSecret();
  const endpoint: WebhookEndpoint = {
    ...owner,
    id: `whe_${randomUUID()}`,
    url: url.toString(),
    events,
    scopes: scopesOf(caller),
    secrets: [{ value: secret }],
    enabled: true,
    disabledReason: null,
    createdAt: new Date().toISOString(),
    failingSince: null,
  };
  await store.addEndpoint(endpoint);
  return { endpoint, secret };
}

export async function rotateSecret(store: WebhookStore, caller: Caller, id: string): Promise<{ secret: string; previousExpiresAt: Date }> {
  const endpoint = await store.endpoint(ownerOf(caller), id);
  if (!endpoint) throw notFound('webhook endpoint');
  const secret = newSecret();
  const previousExpiresAt = Date.now() + ROTATION_OVERLAP_MS;
  await store.setSecrets(id, [{ value: secret }, { value: endpoint.secrets[0]!.value, expiresAt: previousExpiresAt }]);
  return { secret, previousExpiresAt: new Date(previousExpiresAt) };
}

export async function ownEndpoint(store: WebhookStore, caller: Caller, id: string): Promise<WebhookEndpoint> {
  const endpoint = await store.endpoint(ownerOf(caller), id);
  if (!endpoint) throw notFound('webhook endpoint');
  return endpoint;
}

export async function redeliver(store: WebhookStore, caller: Caller, id: string) {
  const owner = ownerOf(caller);
  const delivery = await store.delivery(owner, id);
  if (!delivery) throw notFound('webhook delivery');
  const endpoint = await store.endpoint(owner, delivery.endpointId);
  if (!endpoint?.enabled)
    throw badInput('Its endpoint is disabled: create a new endpoint to receive events again.', {
      field: 'deliveryId',
      reason: 'ENDPOINT_DISABLED',
    });
  return (await store.redeliver(owner, id, Date.now()))!;
}
