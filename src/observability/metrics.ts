/**
 * What an operator watches, in Prometheus text format: Yoga's GraphQL metrics and the gateway's
 * own, prefixed `hstock_`, with the default process metrics. One registry per gateway. No label
 * carries a key, a token, a tenant or anything a caller chooses (an operation name could be
 * anything, so it is not a label).
 */
import type { ServerResponse } from 'node:http';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GROUP_SIZE_BUCKETS, type GroupSizes } from '../subscriptions/groups.ts';

/** What the gauges read when scraped. */
export interface Observed {
  subscriptions(): number;
  subscriptionGroups(): GroupSizes;
  pollLoops(): number;
  pollRoles(): { leading: number; local: number };
  circuitOpen(): boolean;
  responseCacheBytes(): number;
  webhooksPending(): number;
}

export class Metrics {
  readonly registry = new Registry();

  readonly upstreamRequests = new Counter({
    name: 'hstock_upstream_requests_total',
    help: 'Supplier calls by action and outcome (ok, supplier_error, unavailable, rate_limited, parse_error)',
    labelNames: ['action', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'hstock_upstream_request_duration_seconds',
    help: 'Duration of supplier calls, all attempts included',
    labelNames: ['action'] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly cacheReads = new Counter({
    name: 'hstock_cache_reads_total',
    help: 'Catalogue reads by action and result (hit, miss, stale)',
    labelNames: ['action', 'result'] as const,
    registers: [this.registry],
  });

  readonly responseCache = new Counter({
    name: 'hstock_response_cache_total',
    help: 'Whole-answer cache results of queries (hit, not_modified, miss, not_stored, bypass) by where they were decided (http before GraphQL, graphql)',
    labelNames: ['path', 'result'] as const,
    registers: [this.registry],
  });

  readonly upstreamParseFailures = new Counter({
    name: 'hstock_upstream_parse_failures_total',
    help: 'Supplier answers that could not be read, by action and what was lost (answer: the whole call failed; entry: one entry of a list was left out)',
    labelNames: ['action', 'lost'] as const,
    registers: [this.registry],
  });

  readonly unknownStatuses = new Counter({
    name: 'hstock_unknown_statuses_total',
    help: 'Status reads the gateway does not know (they read UNKNOWN with their rawStatus), by kind (order, sms)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly responseCacheEvictions = new Counter({
    name: 'hstock_response_cache_evictions_total',
    help: 'Whole answers that left the response cache, or were never kept, by reason (space, too_large, expired, invalidated)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** One whole-answer cache result, on either path (response-cache.ts). */
  readonly countCacheAnswer = (path: 'http' | 'graphql', result: string) => this.responseCache.inc({ path, result });

  readonly idempotentReplays = new Counter({
    name: 'hstock_idempotent_replays_total',
    help: 'Mutations answered with the recorded outcome of an earlier request with the same idempotency key',
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'hstock_rate_limited_total',
    help: 'Requests, operations and supplier calls refused by a limit, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'hstock_webhook_deliveries_total',
    help: 'Webhook attempts by outcome (delivered, failed_attempt, refused_address), and deliveries given up (gave_up)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly groupEvents = new Counter({
    name: 'hstock_subscription_group_events_total',
    help: 'Subscription events executed, each once for every subscriber of its group',
    registers: [this.registry],
  });

  readonly groupDeliveries = new Counter({
    name: 'hstock_subscription_group_deliveries_total',
    help: 'Subscription events sent to subscribers (each executed event times the subscribers of its group)',
    registers: [this.registry],
  });

  constructor(observed: Observed) {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect: function (this: Gauge) {
          this.set(read());
        },
      });
    gauge('hstock_subscriptions', 'Active subscriptions, both transports', observed.subscriptions);
    gauge('hstock_subscription_groups', 'Groups of subscribers sharing one execution', () => observed.subscriptionGroups().groups);
    new Gauge({
      name: 'hstock_subscription_groups_by_size',
      help: 'Groups of subscribers by how many subscribers each has (subscribers: 1, 2-10, 11-100, 101-1000, 1001+)',
      labelNames: ['subscribers'] as const,
      registers: [this.registry],
      collect: function (this: Gauge<'subscribers'>) {
        const { bySize } = observed.subscriptionGroups();
        for (const bucket of GROUP_SIZE_BUCKETS) this.set({ subscribers: bucket }, bySize[bucket]);
      },
    });
    gauge('hstock_poll_loops', 'Running poll loops (one per watched order)', observed.pollLoops);
    gauge(
      'hstock_poll_loops_leading',
      'Poll loops this instance polls for every instance (REDIS_URL set)',
      () => observed.pollRoles().leading,
    );
    gauge('hstock_poll_loops_local', 'Poll loops polling by themselves because Redis is away', () => observed.pollRoles().local);
    gauge(
      'hstock_response_cache_bytes',
      'What the cached whole answers count for against RESPONSE_CACHE_MAX_BYTES',
      observed.responseCacheBytes,
    );
    gauge(
      'hstock_webhook_deliveries_pending',
      'Webhook deliveries waiting for an attempt (all instances, with Redis)',
      observed.webhooksPending,
    );
    gauge('hstock_circuit_open', '1 while the circuit to the supplier is open', () => (observed.circuitOpen() ? 1 : 0));
    collectDefaultMetrics({ register: this.registry });
  }

  /** Yoga's GraphQL metrics (requests, phases, errors, HTTP duration) into this registry. */
  graphqlPlugin(): Plugin {
    return usePrometheus({
      registry: this.registry,
      endpoint: false,
      labels: { operationName: false, fieldName: false, typeName: false, returnType: false, path: false },
      metrics: {
        graphql_envelop_request: ['execute'],
        graphql_envelop_request_duration: ['execute'],
        graphql_envelop_request_time_summary: ['execute'],
        graphql_envelop_phase_parse: true,
        graphql_envelop_phase_validate: true,
        graphql_envelop_phase_context: true,
        graphql_envelop_phase_execute: true,
        graphql_envelop_phase_subscribe: false,
        // Walks every operation's document with the schema's type info: about a seventh of a
        // subscription start's CPU, for a schema that deprecates nothing.
        graphql_envelop_deprecated_field: false,
        graphql_envelop_error_result: ['parse', 'validate', 'context', 'execute'],
        graphql_yoga_http_duration: true,
      },
    });
  }

  /** Answers a scrape. */
  async serve(res: ServerResponse): Promise<void> {
    const body = await this.registry.metrics();
    res.writeHead(200, { 'content-type': this.registry.contentType });
    res.end(body);
  }
}
