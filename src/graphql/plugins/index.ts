import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import { type Authenticator, PREFLIGHT_HEADERS } from '../../auth/authenticator.ts';
import { useUpstreamBudget } from '../../limits/budget.ts';
import { useGraphiQLAssets } from '../graphiql.ts';
import { usePersistedDocuments } from '../persisted-documents.ts';
import { useRequestLimits } from '../../limits/requests.ts';
import { REQUEST_ID_HEADER, useRequestId } from '../../http/request-id.ts';
import { cacheOutcomeOf, useCatalogueResponseCache } from '../response-cache.ts';
import { WrappedIterator } from '../../subscriptions/wrapped-iterator.ts';
import { useTracing } from '../../observability/tracing.ts';
import { type ExecutionResult, GraphQLError, Kind, NoSchemaIntrospectionCustomRule, getOperationAST } from 'graphql';
import type { GatewayServices } from '../../services.ts';
import type { Context } from '../context.ts';
import { GatewayError } from '../../errors.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Metrics } from '../../observability/metrics.ts';

/**
 * Yoga's `maxRequestBodySize` refuses a body over the limit with HTTP 413, counting it as it
 * streams in, so a chunked body without a Content-Length is refused as soon as it passes the
 * limit, before it is buffered. This words the refusal in the gateway's own terms and closes the
 * connection, so the client stops sending the rest.
 */
export function useBodyLimit(maxBytes: number): Plugin {
  return {
    onResultProcess: ({ result, setResult }) => {
      const errors = Array.isArray(result) || isAsyncIterable(result) ? [] : (result.errors ?? []);
      if (!errors.some((error) => error.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE')) return;
      setResult({
        errors: [new GatewayError('BAD_USER_INPUT', `Request body over ${maxBytes} bytes.`, { extensions: { http: { status: 413 } } })],
      });
    },
    onResponse: ({ response }) => {
      if (response.status === 413) response.headers.set('connection', 'close');
    },
  };
}

/** Tells the caller when catalogue data came from the cache past its TTL because the supplier failed. */
export function useStaleNotice(): Plugin<Context> {
  return {
    onExecute: () => ({
      onExecuteDone: ({ args, result, setResult }) => {
        const stale = args.contextValue.stale;
        if (stale.length === 0 || isAsyncIterable(result)) return;
        setResult({ ...result, extensions: { ...result.extensions, stale: { catalogue: true, reads: stale } } });
      },
    }),
  };
}

/**
 * The operation limits, by name. The cost limit weighs the work of building a response (fields
 * times `first`); supplier calls are the upstream budget's (budget.ts). Every documented
 * operation passes, `services(first: 500)` with every field included.
 */
export const OPERATION_LIMITS = { depth: 12, aliases: 100, directives: 20, tokens: 5000, cost: 50_000 } as const;

/** Operation limits and browser protections, in one place. */
export function protections(): Plugin[] {
  return [
    EnvelopArmorPlugin({
      maxDepth: { n: OPERATION_LIMITS.depth },
      maxAliases: { n: OPERATION_LIMITS.aliases },
      maxDirectives: { n: OPERATION_LIMITS.directives },
      maxTokens: { n: OPERATION_LIMITS.tokens },
      costLimit: { maxCost: OPERATION_LIMITS.cost },
      blockFieldSuggestion: { enabled: false },
    }),
    // A form post or bare GET from another site would skip the browser's CORS preflight and could
    // spend the key; any of these headers proves the caller is not such a "simple" request.
    useCSRFPrevention({ requestHeaders: PREFLIGHT_HEADERS }),
  ] as Plugin[];
}

/** Unexpected errors reach the caller masked ("Unexpected error."); the log keeps them with the request id. */
export function useErrorLog(logger: Logger): Plugin<Context> {
  return {
    onExecute: () => ({
      onExecuteDone: ({ args, result }) => {
        if (isAsyncIterable(result)) return;
        for (const error of result.errors ?? []) {
          if (error.originalError && !(error.originalError instanceof GraphQLError)) {
            logger.error({ requestId: args.contextValue.requestId, err: error.originalError, path: error.path }, 'unexpected error');
          }
        }
      },
    }),
  };
}

/** GraphQL Armor words its refusals as syntax errors without a code; these are their names. */
const ARMOR_LIMITS: ReadonlyArray<[RegExp, keyof typeof OPERATION_LIMITS]> = [
  [/^Syntax Error: Query Cost limit/, 'cost'],
  [/^Syntax Error: Query depth limit/, 'depth'],
  [/^Syntax Error: Aliases limit/, 'aliases'],
  [/^Syntax Error: Directives limit/, 'directives'],
  [/^Syntax Error: Token limit/, 'tokens'],
];

/** Messages echo input (a bad id, a bad variable); past this they are cut. */
const MAX_MESSAGE = 200;

/**
 * What a client is told of an error: a limit named and coded (BAD_USER_INPUT), a message cut
 * short whatever input it echoes, no parser text from inside, no transport hints.
 */
export function clientError(error: GraphQLError): GraphQLError {
  const limit = ARMOR_LIMITS.find(([pattern]) => pattern.test(error.message))?.[1];
  const { originalError: _parser, ...extensions } = error.extensions as Record<string, unknown>;
  const message = limit ? error.message.replace(/^Syntax Error: /, '') : error.message;
  const cut = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
  if (!limit && cut === message && _parser === undefined) return error;
  return new GraphQLError(cut, {
    nodes: error.nodes,
    path: error.path,
    extensions: limit ? { ...extensions, code: 'BAD_USER_INPUT', limit, max: OPERATION_LIMITS[limit] } : extensions,
  });
}

/** Applies clientError to every error a request answers with, and counts the limits met. */
export function useClientErrors(metrics: Metrics): Plugin {
  return {
    onResultProcess: ({ result, setResult }) => {
      if (Array.isArray(result) || isAsyncIterable(result) || !result.errors?.length) return;
      countLimits(result.errors, metrics);
      setResult({ ...result, errors: result.errors.map((error) => clientError(error as GraphQLError)) });
    },
  };
}

/** Each RATE_LIMITED error, by the reason it carries. */
export function countLimits(errors: ReadonlyArray<{ extensions?: Record<string, unknown> }>, metrics: Metrics): void {
  for (const error of errors) {
    if (error.extensions?.code === 'RATE_LIMITED') metrics.rateLimited.inc({ reason: String(error.extensions.reason ?? 'SUPPLIER') });
  }
}

/** INTROSPECTION=false: the schema is not described to callers (GraphiQL then has nothing to show). */
function useNoIntrospection(): Plugin {
  return { onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) };
}

/**
 * One line per HTTP request once its answer starts (an SSE stream's included): request id,
 * operation name and type, status, duration, supplier calls made, and the first 8 characters of
 * the tenant, enough to follow one tenant's requests and nothing to recover its key from.
 */
export function useAccessLog(logger: Logger, auth: Authenticator): { first: Plugin<Context>; last: Plugin<Context> } {
  const requests = new WeakMap<Request, { started: number; operation?: string; type?: string; context?: Context }>();
  const seen = ({ args }: { args: { document: unknown; operationName?: string | null; contextValue: Context } }) => {
    const entry = requests.get((args.contextValue as Context & { request?: Request }).request!);
    if (!entry) return;
    const operation = getOperationAST(args.document as Parameters<typeof getOperationAST>[0], args.operationName);
    Object.assign(entry, { operation: operation?.name?.value, type: operation?.operation, context: args.contextValue });
  };
  // Two plugins: the first sees each request before any other plugin can answer it early (a 304, a
  // 413), the last writes the line once every other plugin has shaped the response.
  const first: Plugin<Context> = {
    onRequest: ({ request }) => void requests.set(request, { started: performance.now() }),
    onParams: ({ request, params }) => {
      const entry = requests.get(request);
      if (entry && params.operationName) entry.operation = params.operationName;
    },
    onExecute: seen,
    onSubscribe: seen,
  };
  const last: Plugin<Context> = {
    onResponse: ({ request, response }) => {
      const entry = requests.get(request);
      if (!entry) return;
      // An answer from the response cache runs no operation: it is a query, of the caller its key names.
      const cache = cacheOutcomeOf(request);
      const cached = cache === 'hit' || cache === 'not_modified';
      const identity = entry.context?.identity ?? (cached ? auth.identifyRequest(request) : undefined);
      logger.info(
        {
          requestId: response.headers.get(REQUEST_ID_HEADER),
          method: request.method,
          path: new URL(request.url).pathname,
          operation: entry.operation,
          type: entry.type ?? (cached ? 'query' : undefined),
          status: response.status,
          durationMs: Math.round(performance.now() - entry.started),
          supplierCalls: entry.context?.supplier.calls ?? 0,
          tenant: identity?.ok ? identity.tenant.slice(0, 8) : undefined,
          cache,
          cachePath: cache && 'graphql',
        },
        'request',
      );
    },
  };
  return { first, last };
}

/**
 * Every plugin, in the order it acts: request id and body limit first, then the operation limits
 * and the upstream budget before any resolver runs, the response cache and the request rates as
 * the parameters are read, then what shapes and records the answer.
 */
export function gatewayPlugins(services: GatewayServices, logger: Logger): Plugin[] {
  const { config } = services;
  const accessLog = useAccessLog(logger, services.auth);
  return [
    useRequestId(),
    accessLog.first,
    useBodyLimit(config.maxBodyBytes),
    // Before the response cache: a documentId becomes its query before the cached answer is looked up.
    ...(config.persistedDocuments.size > 0 || config.persistedDocumentsOnly ? [usePersistedDocuments(config.persistedDocuments, config.persistedDocumentsOnly)] : []),
    ...protections(),
    useUpstreamBudget(config.maxUpstreamCallsPerOperation),
    useClientErrors(services.metrics),
    ...(config.graphiql ? [useGraphiQLAssets()] : []),
    useStaleNotice(),
    useCatalogueResponseCache(config.cacheTtlSeconds, services.auth, services.responseCache, services.metrics.countCacheAnswer),
    // After the response cache: a refusal set as the parameters are read overrides a cached answer.
    useRequestLimits(services),
    useErrorLog(logger),
    accessLog.last,
    ...(services.tracing ? [useTracing()] : []),
    useSubscriptionEvents(),
    ...(config.introspection ? [] : [useNoIntrospection()]),
    ...(config.metrics ? [services.metrics.graphqlPlugin()] : []),
  ] as Plugin[];
}

/**
 * What a subscriber receives, the same over WebSocket and SSE: each event only when its payload
 * differs from the last one this subscriber got (a change in a field it did not select is no
 * event for it), and a failure as a last event with `errors` (code and path), then completion,
 * never a transport error.
 */
export function useSubscriptionEvents(): Plugin {
  return {
    onSubscribe: ({ args }) => ({
      onSubscribeResult: ({ result, setResult }) => {
        if (!isAsyncIterable(result)) return;
        const root = getOperationAST(args.document, args.operationName)?.selectionSet.selections[0];
        const path = root?.kind === Kind.FIELD ? [root.alias?.value ?? root.name.value] : [];
        setResult(new DistinctEvents(result[Symbol.asyncIterator](), path));
      },
    }),
  };
}

/**
 * An iterator, not an async generator: a generator waiting for the next event would not pass a
 * subscriber's leaving on to the source until that event came, and the poll loop would go on.
 */
class DistinctEvents extends WrappedIterator<ExecutionResult> {
  /** The last payload this subscriber got, as text. */
  #last: string | undefined;
  #ended = false;

  constructor(
    source: AsyncIterator<ExecutionResult>,
    private readonly path: string[],
  ) {
    super(source);
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    while (!this.#ended) {
      let event: IteratorResult<ExecutionResult>;
      try {
        event = await this.source.next();
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        this.#ended = true;
        return { value: { errors: [new GraphQLError(error.message, { path: this.path, extensions: error.extensions })] }, done: false };
      }
      if (event.done) break;
      const text = JSON.stringify(event.value);
      if (text === this.#last) continue;
      this.#last = text;
      return event;
    }
    this.#ended = true;
    return { value: undefined, done: true };
  }

  protected ended(): void {
    this.#ended = true;
  }
}
