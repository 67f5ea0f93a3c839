import type { Plugin } from 'graphql-yoga';
import { useRequestId } from '../../http/request-id.ts';
import { useUpstreamBudget } from '../../limits/budget.ts';
import { protections } from '../../limits/operations.ts';
import { useRequestLimits } from '../../limits/requests.ts';
import { accessLog } from '../../observability/access-log.ts';
import type { Logger } from '../../observability/logger.ts';
import { useTracing } from '../../observability/tracing.ts';
import type { Runtime } from '../../runtime.ts';
import { useGraphiQLAssets } from '../graphiql.ts';
import { usePersistedDocuments } from '../persisted-documents.ts';
import { useCatalogueResponseCache } from '../response-cache.ts';
import { useAccessLog } from './use-access-log.ts';
import { useBodyLimit } from './use-body-limit.ts';
import { useClientErrors } from './use-client-errors.ts';
import { useErrorLog } from './use-error-log.ts';
import { useNoIntrospection } from './use-no-introspection.ts';
import { useStaleNotice } from './use-stale-notice.ts';
import { useSubscriptionEvents } from './use-subscription-events.ts';
import { useSubscriptionGroups, type ExecuteSubscription } from './use-subscription-groups.ts';

/**
 * Every plugin, in the order it acts: request id and body limit first, then the operation limits
 * and the upstream budget before any resolver runs, the response cache and the request rates as
 * the parameters are read, then what shapes and records the answer.
 */
export function gatewayPlugins(runtime: Runtime, logger: Logger, executeSubscription: ExecuteSubscription): Plugin[] {
  const { config } = runtime;
  const access = useAccessLog(accessLog(logger), runtime.auth);
  return [
    useRequestId(),
    access.first,
    useBodyLimit(config.maxBodyBytes),
    // Before the response cache: a documentId becomes its query before the cached answer is looked up.
    ...(config.persistedDocuments.size > 0 || config.persistedDocumentsOnly
      ? [usePersistedDocuments(config.persistedDocuments, config.persistedDocumentsOnly)]
      : []),
    ...protections(),
    useUpstreamBudget(config.maxUpstreamCallsPerOperation),
    useClientErrors(runtime.metrics),
    ...(config.graphiql ? [useGraphiQLAssets()] : []),
    useStaleNotice(),
    useCatalogueResponseCache(config.cacheTtlSeconds, runtime.auth, runtime.responseCache, runtime.metrics.countCacheAnswer),
    // After the response cache: a refusal set as the parameters are read overrides a cached answer.
    useRequestLimits(runtime),
    useErrorLog(logger),
    access.last,
    // Each subscriber is checked by the plugins above; those below run once per group.
    useSubscriptionGroups(runtime.groups, executeSubscription),
    ...(runtime.tracing ? [useTracing()] : []),
    useSubscriptionEvents(),
    ...(config.introspection ? [] : [useNoIntrospection()]),
    ...(config.metrics ? [runtime.metrics.graphqlPlugin()] : []),
  ] as Plugin[];
}
