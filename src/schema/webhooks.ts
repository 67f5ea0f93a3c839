import { unauthenticated } from '../auth/scopes.ts';
import { badInput } from '../errors.ts';
import type { Context } from '../graphql/context.ts';
import { createEndpoint, EVENT_TYPES, ownEndpoint, ownerOf, redeliver, rotateSecret } from '../webhooks/endpoints.ts';
import { UnknownCursorError, type WebhookEndpoint as Endpoint, type WebhookDelivery } from '../webhooks/store.ts';
import { builder } from './builder.ts';
import { storedPage, storedPageArgs, type Page } from './pagination.ts';

const caller = (ctx: Context) => {
  if (!ctx.identity.ok) throw unauthenticated(ctx.identity);
  return ctx.identity;
};

const WebhookEndpoint = builder.objectRef<Endpoint>('WebhookEndpoint').implement({
  description:
    "A URL the gateway posts the calling client's events to, signed (Standard Webhooks v1: headers `webhook-id`, `webhook-timestamp`, `webhook-signature`), at least once: dedupe by `webhook-id`, order by `data.version`.",
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The endpoint id.' }),
    url: t.exposeString('url', { description: 'Where deliveries are posted.' }),
    events: t.exposeStringList('events', {
      description: `The event types it receives (${EVENT_TYPES.join(', ')}); empty: all of them.`,
    }),
    enabled: t.exposeBoolean('enabled', { description: 'False once disabled: nothing more is delivered to it.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (endpoint) => endpoint.createdAt }),
    disabledReason: t.exposeString('disabledReason', {
      nullable: true,
      description: 'Why it was disabled: `GONE` (it answered 410) or `FAILING` (no success for 5 days while failing); null while enabled.',
    }),
  }),
});

const WebhookEndpointCreated = builder.objectRef<{ endpoint: Endpoint; secret: string }>('WebhookEndpointCreated').implement({
  description: 'A new endpoint and its signing secret, shown this once.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpoint, description: 'The endpoint.', resolve: (created) => created.endpoint }),
    secret: t.exposeString('secret', {
      description: 'The signing secret, `whsec_` and base64: verify deliveries with it (the `standardwebhooks` package). Not shown again.',
    }),
  }),
});

const WebhookSecret = builder.objectRef<{ secret: string; previousExpiresAt: Date }>('WebhookSecret').implement({
  description: 'A new signing secret, shown this once.',
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The new secret, `whsec_` and base64. Not shown again.' }),
    previousExpiresAt: t.field({
      type: 'DateTime',
      description: 'Until then every delivery carries two signatures, by the new secret and by the previous one.',
      resolve: (rotated) => rotated.previousExpiresAt,
    }),
  }),
});

const WebhookDeliveryStatus = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where a delivery stands.',
  values: {
    PENDING: { description: 'Not delivered yet: an attempt is due at `nextAttemptAt`.' },
    DELIVERED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every attempt of the schedule failed, or the endpoint was disabled or deleted.' },
  } as const,
});

const millis = (value: number | null) => (value === null ? null : new Date(value));

const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery').implement({
  description: 'One event sent to one endpoint, with its attempts.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The delivery id, which `redeliverWebhook` takes.' }),
    endpointId: t.exposeID('endpointId', { description: 'The endpoint it goes to.' }),
    eventId: t.exposeString('eventId', { description: 'The event, also sent as `webhook-id`.' }),
    eventType: t.exposeString('eventType', { description: "The event type, also the body's `type`." }),
    status: t.field({ type: WebhookDeliveryStatus, description: 'Where it stands.', resolve: (delivery) => delivery.status }),
    attempts: t.exposeInt('attempts', { description: 'Attempts made (since the last `redeliverWebhook`).' }),
    lastStatusCode: t.exposeInt('lastStatusCode', {
      nullable: true,
      description: 'The HTTP status of the last attempt; null before one or when it got no answer.',
    }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description: 'Why the last attempt failed (`HTTP 503`, a timeout, a refused address); null after a success.',
    }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due; null once DELIVERED or FAILED.',
      resolve: (delivery) => (delivery.status === 'PENDING' ? millis(delivery.nextAttemptAt) : null),
    }),
    deliveredAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the endpoint answered 2xx; null until then.',
      resolve: (delivery) => millis(delivery.deliveredAt),
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the delivery was written.',
      resolve: (delivery) => millis(delivery.createdAt)!,
    }),
  }),
});

const WebhookDeliveryConnection = builder.connectionObject(
  {
    type: WebhookDeliveryRef,
    name: 'WebhookDeliveryConnection',
    description: 'A page of deliveries, newest first.',
    fields: (t) => ({
      totalCount: t.int({
        description: 'How many deliveries the endpoint lists in all, across every page.',
        resolve: (page) => (page as Page<WebhookDelivery>).totalCount,
      }),
    }),
  },
  { name: 'WebhookDeliveryEdge', description: 'A delivery with its position in the list.' },
);

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  description: 'An endpoint to create.',
  fields: (t) => ({
    url: t.string({
      required: true,
      description: 'An http(s) URL on a public address (private, loopback, link-local and metadata addresses are refused).',
    }),
    events: t.stringList({ description: `Event types to receive, of ${EVENT_TYPES.join(', ')}; absent or empty: all.` }),
  }),
});

builder.queryFields((t) => ({
  webhookEndpoints: t.field({
    authScopes: { 'orders:read': true },
    type: [WebhookEndpoint],
    description:
      "The calling client's webhook endpoints, oldest first. Errors: UNAUTHENTICATED, UPSTREAM_UNAVAILABLE (the state store is away).",
    resolve: (_root, _args, ctx) => ctx.runtime.webhooks.store.endpoints(ownerOf(caller(ctx))),
  }),
  webhookDeliveries: t.field({
    authScopes: { 'orders:read': true },
    type: WebhookDeliveryConnection,
    description:
      "The deliveries to one of the calling client's endpoints, newest first, kept 30 days. Errors: NOT_FOUND (no such endpoint, or another caller's), BAD_USER_INPUT (a bad cursor or `first`), UNAUTHENTICATED, UPSTREAM_UNAVAILABLE.",
    args: {
      endpointId: t.arg.id({ required: true, description: 'The endpoint.' }),
      first: t.arg.int({ description: 'Page size, 0 to 500 (default 50).' }),
      after: t.arg.string({ description: 'The endCursor of the previous page.' }),
    },
    resolve: async (_root, args, ctx) => {
      const { store } = ctx.runtime.webhooks;
      const endpoint = await ownEndpoint(store, caller(ctx), String(args.endpointId));
      const { first, after } = storedPageArgs(args);
      try {
        const page = await store.deliveries(ownerOf(caller(ctx)), endpoint.id, first, after);
        return storedPage(page.deliveries, { ...page, after });
      } catch (error) {
        if (error instanceof UnknownCursorError) throw badInput('after is not a cursor of this list.', { field: 'after' });
        throw error;
      }
    },
  }),
}));

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    authScopes: { $all: { 'orders:read': true, 'orders:place': true } },
    type: WebhookEndpointCreated,
    description:
      "Creates an endpoint for the calling client's events, and shows its signing secret once. Its deliveries show what the caller's scopes show now (`charge` with `account:read`). Errors: BAD_USER_INPUT (field `url` with `reason`: not http(s), credentials in it, a host that does not resolve or resolves to a non-public address; field `events`: an unknown type; more than 20 endpoints), UNAUTHENTICATED, UPSTREAM_UNAVAILABLE.",
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true, description: 'The endpoint.' }) },
    resolve: (_root, { input }, ctx) => createEndpoint(ctx.runtime.webhooks.store, ctx.runtime.webhooks.settings, caller(ctx), input),
  }),
  deleteWebhookEndpoint: t.boolean({
    authScopes: { $all: { 'orders:read': true, 'orders:place': true } },
    description:
      "Deletes one of the calling client's endpoints: nothing more is sent to it. True when deleted. Errors: NOT_FOUND (no such endpoint, or another caller's), UNAUTHENTICATED, UPSTREAM_UNAVAILABLE.",
    args: { id: t.arg.id({ required: true, description: 'The endpoint.' }) },
    resolve: async (_root, args, ctx) => {
      const deleted = await ctx.runtime.webhooks.store.deleteEndpoint(ownerOf(caller(ctx)), String(args.id));
      if (!deleted) await ownEndpoint(ctx.runtime.webhooks.store, caller(ctx), String(args.id));
      return deleted;
    },
  }),
  rotateWebhookSecret: t.field({
    authScopes: { $all: { 'orders:read': true, 'orders:place': true } },
    type: WebhookSecret,
    description:
      'Gives an endpoint a new signing secret, shown once; for 24 hours the previous one signs every delivery too (`webhook-signature: v1,<new> v1,<previous>`). Errors: NOT_FOUND, UNAUTHENTICATED, UPSTREAM_UNAVAILABLE.',
    args: { id: t.arg.id({ required: true, description: 'The endpoint.' }) },
    resolve: (_root, args, ctx) => rotateSecret(ctx.runtime.webhooks.store, caller(ctx), String(args.id)),
  }),
  redeliverWebhook: t.field({
    authScopes: { $all: { 'orders:read': true, 'orders:place': true } },
    type: WebhookDeliveryRef,
    description:
      'Sends a delivery again now, on a fresh retry schedule (same `webhook-id`). Errors: NOT_FOUND (no such delivery, or another caller\'s), BAD_USER_INPUT (its endpoint is disabled, `reason: "ENDPOINT_DISABLED"`), UNAUTHENTICATED, UPSTREAM_UNAVAILABLE.',
    args: { deliveryId: t.arg.id({ required: true, description: 'The delivery.' }) },
    resolve: (_root, args, ctx) => redeliver(ctx.runtime.webhooks.store, caller(ctx), String(args.deliveryId)),
  }),
}));
