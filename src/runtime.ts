/**
 * The runtime: every long-lived piece a request shares (supplier client, caches, state store, poll
 * hub, limits, metrics, traces), built once from the configuration. graphql/context.ts builds
 * what one operation sees from them.
 */
import { Authenticator, KeyCheck } from './auth/authenticator.ts';
import type { Config } from './config.ts';
import { createFollower, type Follower } from './events/follower.ts';
import { MemoryEventLog } from './events/memory.ts';
import { RedisEventLog } from './events/redis.ts';
import type { EventLog } from './events/store.ts';
import { createResponseCache, type Cache } from './graphql/response-cache.ts';
import { AuthFailures } from './limits/requests.ts';
import { SharedLimits } from './limits/shared.ts';
import { tenantRate, TokenBuckets } from './limits/token-buckets.ts';
import { SupplierHealth } from './observability/health.ts';
import type { Logger } from './observability/logger.ts';
import { Metrics } from './observability/metrics.ts';
import { Tracing } from './observability/tracing.ts';
import type { IdempotencyPolicy } from './placement/idempotency.ts';
import { InFlight } from './placement/in-flight.ts';
import type { UnrecordedPlacement } from './placement/placement.ts';
import { Reservations } from './placement/reservations.ts';
import { RedisConnection } from './state/connection.ts';
import { createMemoryStore } from './state/memory.ts';
import { createRedisStore } from './state/redis.ts';
import type { StateStore } from './state/store.ts';
import { RedisCoordination } from './subscriptions/coordination.ts';
import { SubscriptionGroups } from './subscriptions/groups.ts';
import { PollHub } from './subscriptions/poll-hub.ts';
import { LruReadCache } from './supplier/cache.ts';
import { HstockClient } from './supplier/client.ts';
import { listen, RedisSharedCache } from './supplier/shared-cache.ts';
import type { SupplierDeps } from './supplier/supplier.ts';
import { createWebhooks, type Webhooks } from './webhooks/webhooks.ts';

/** Long-lived pieces that every request shares: the runtime, wired once. */
export interface Runtime extends SupplierDeps {
  config: Config;
  auth: Authenticator;
  state: StateStore;
  idempotencyPolicy: IdempotencyPolicy;
  reservations: Reservations;
  /** Placements in flight: shutdown waits for their outcome to be recorded. */
  spends: InFlight;
  onUnrecorded: (error: unknown, placement?: UnrecordedPlacement) => void;
  hub: PollHub;
  /** Subscribers grouped by what they receive, one execution per group (groups.ts). */
  groups: SubscriptionGroups;
  keyCheck: KeyCheck;
  health: SupplierHealth;
  metrics: Metrics;
  /** Limits counted across instances, with REDIS_URL. */
  sharedLimits?: SharedLimits;
  /** Whole answers to catalogue queries (response-cache.ts). */
  responseCache: Cache;
  /** A token from a tenant's request bucket: 0, or the ms until there is one. */
  tenantRate: (tenant: string) => Promise<number>;
  /** Failing credentials per client address, on every transport. */
  authFailures: AuthFailures;
  /** Subscription starts per tenant, in this instance (watch.ts). */
  subscriptionStarts: TokenBuckets;
  /** OpenTelemetry traces, when an OTLP endpoint is configured. */
  tracing?: Tracing;
  /** What changed: recorded states, the callers' feeds, the outbox (`events.outbox`). */
  events: EventLog;
  /** Follows every placed order to its end: server-key mode with FOLLOW_ORDERS only. */
  follower?: Follower;
  /** Webhook endpoints, deliveries and the dispatcher every instance runs. */
  webhooks: Webhooks;
}

/**
 * A repeat waits for the first request as long as one supplier call may take; a claim is taken
 * as abandoned (its instance died mid-request) after the reads before the spend, the spend and a
 * margin could all have run to their deadlines.
 */
const idempotencyPolicy = (config: Config): IdempotencyPolicy => ({
  waitMs: config.upstreamTimeoutMs,
  leaseMs: 3 * config.upstreamTimeoutMs + 10_000,
});

function createStateStore(config: Config, redis: RedisConnection | undefined): StateStore {
  const policy = {
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
    idempotencyMaxPerCaller: config.idempotencyMaxEntries,
    ledgerRetentionDays: config.ledgerRetentionDays,
  };
  return redis ? createRedisStore(redis, policy) : createMemoryStore(policy);
}

export function createRuntime(config: Config & { upstreamUrl: string }, logger: Logger): Runtime {
  const redis = config.redisUrl
    ? new RedisConnection(config.redisUrl, config.redisKeyPrefix, logger, config.redisCommandTimeoutMs)
    : undefined;
  const sharedLimits = redis && new SharedLimits(redis);
  const hub = new PollHub({
    failureLimitMs: config.pollFailureLimitMs,
    perTenant: config.subscriptionsPerTenant,
    coordination: redis && new RedisCoordination(redis),
    onLocal: (local) => {
      if (local) logger.warn('Redis is away: a poll loop polls by itself until it is back');
      else logger.info('Redis is back: a poll loop is shared again');
    },
  });
  // onCall runs on calls only, once health and metrics below exist.
  const client: HstockClient = new HstockClient({
    url: config.upstreamUrl,
    timeoutMs: config.upstreamTimeoutMs,
    connections: config.upstreamConnections,
    guard: config.upstreamGuard,
    rejectedKeys: sharedLimits,
    onCall: (event) => {
      health.record(event);
      metrics.upstreamRequests.inc({ action: event.action, outcome: event.outcome });
      metrics.upstreamDuration.observe({ action: event.action }, event.durationMs / 1000);
      logger.debug({ upstream: event }, 'upstream call');
      if (event.problems) {
        // The supplier's answer (or part of it) could not be read: said once per call, with what and where.
        const lost = event.outcome === 'parse_error' ? 'answer' : 'entry';
        metrics.upstreamParseFailures.inc({ action: event.action, lost }, event.problems.length);
        logger.warn(
          { action: event.action, lost, problems: event.problems.slice(0, 10), count: event.problems.length },
          'supplier answer not readable',
        );
      }
    },
    onSingleStatus: (action) =>
      action === 'status'
        ? logger.warn('the supplier reads one order per status call (no orders=): orders are read one at a time for a while')
        : logger.warn('the supplier reads one refill per refill_status call (no refills=): refills are read one at a time for a while'),
    onUnsupported: (action, upstreamMessage) => {
      logger.warn({ action, upstreamMessage }, `the supplier has no ${action} action: the gateway does without it for a while`);
    },
  });
  const groups = new SubscriptionGroups({
    onEvent: (subscribers) => {
      metrics.groupEvents.inc();
      metrics.groupDeliveries.inc(subscribers);
    },
    onFailure: (error) => logger.error({ err: error }, 'a subscription failed'),
  });
  const metrics = new Metrics({
    subscriptions: () => hub.subscriptions,
    subscriptionGroups: () => groups.sizes,
    pollLoops: () => hub.loops,
    pollRoles: () => hub.roles,
    circuitOpen: () => client.guard.circuitOpen,
    responseCacheBytes: () => responseCache.bytes,
    webhooksPending: () => webhooks.dispatcher.pending,
  });
  const responseCache = createResponseCache({
    ...config.responseCache,
    onEvict: (reason) => metrics.responseCacheEvictions.inc({ reason }),
    peers: redis && {
      publish: (message) => redis.publish('response-cache:invalidated', message),
      listen: (listener) => listen(redis, 'response-cache:invalidated', listener),
    },
  });
  const health = new SupplierHealth(client, logger, config.readyProbeMs);
  const webhooks = createWebhooks(config.webhooks, {
    redis,
    logger,
    onAttempt: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
  });
  const eventPolicy = { retentionMs: config.ledgerRetentionDays * 86_400_000 };
  const runtime: Runtime = {
    config,
    client,
    health,
    metrics,
    hub,
    groups,
    ttl: config.cacheTtlSeconds,
    cache: new LruReadCache({
      maxEntries: config.cacheMaxEntries,
      maxBytes: config.cacheMaxBytes,
      staleMaxSeconds: config.cacheStaleMaxSeconds,
      shared: redis && new RedisSharedCache(redis),
      sharedWaitMs: config.upstreamTimeoutMs,
    }),
    onCacheRead: (action, result) => metrics.cacheReads.inc({ action, result }),
    callsAtOnce: config.upstreamGuard.concurrencyPerKey,
    onUnknownStatus: (kind) => metrics.unknownStatuses.inc({ kind }),
    auth: new Authenticator(config),
    state: createStateStore(config, redis),
    idempotencyPolicy: idempotencyPolicy(config),
    reservations: new Reservations(),
    spends: new InFlight(),
    onUnrecorded: (error, placement) =>
      logger.error(
        { err: error, ...placement },
        'a placement ran but its outcome could not be recorded: reconcile it with the supplier by its order ids',
      ),
    keyCheck: new KeyCheck(client),
    sharedLimits,
    responseCache,
    tenantRate: tenantRate(config.rateLimit, sharedLimits),
    authFailures: new AuthFailures(config, client.guard),
    subscriptionStarts: new TokenBuckets(config.subscriptionStarts.perSecond, config.subscriptionStarts.burst),
    tracing: config.traces && new Tracing(config.traces, logger),
    webhooks,
    // Events are kept as long as the ledger that says whose they are.
    events: redis ? new RedisEventLog(redis, eventPolicy) : new MemoryEventLog(eventPolicy),
  };
  runtime.follower = createFollower(runtime, logger);
  return runtime;
}
