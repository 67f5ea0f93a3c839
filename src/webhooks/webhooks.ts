/**
 * Webhooks assembled from the configuration: the store (Redis with REDIS_URL, this process
 * without), the sender and the dispatcher that every instance runs.
 */
import type { WebhookConfig } from '../config.ts';
import type { Logger } from '../observability/logger.ts';
import type { RedisConnection } from '../state/connection.ts';
import { WebhookDispatcher, type DeliveryOutcome } from './dispatcher.ts';
import type { WebhookSettings } from './endpoints.ts';
import { MemoryWebhookStore } from './memory-store.ts';
import { RedisWebhookStore } from './redis-store.ts';
import { WebhookSender } from './sender.ts';
import type { WebhookStore } from './store.ts';

export interface Webhooks {
  store: WebhookStore;
  dispatcher: WebhookDispatcher;
  settings: WebhookSettings;
}

export function createWebhooks(
  config: WebhookConfig,
  deps: { redis?: RedisConnection; logger: Logger; onAttempt: (outcome: DeliveryOutcome) => void },
): Webhooks {
  const store = deps.redis ? new RedisWebhookStore(deps.redis) : new MemoryWebhookStore();
  const dispatcher = new WebhookDispatcher({
    store,
    sender: new WebhookSender({ timeoutMs: config.timeoutMs, allowPrivate: config.allowPrivate }),
    policy: { scale: config.retryScale },
    timeoutMs: config.timeoutMs,
    concurrency: config.concurrency,
    onAttempt: deps.onAttempt,
    logger: deps.logger,
  });
  return { store, dispatcher, settings: { allowPrivate: config.allowPrivate } };
}
