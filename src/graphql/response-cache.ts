/**
 * Whole answers to catalogue queries, cached as long as the data they read and answered before
 * execution; with an ETag, and 304 for a client that has the answer (the HTTP server sends what it
 * can before Yoga: http/cached-answers.ts).
 * Keyed by tenant and caller, document and variables. What a caller must not share (balance,
 * orders, SMS orders, the ledger) is never kept: any query that selects it is not cached.
 */
import { createHash } from 'node:crypto';
import { useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { getOperationAST, parse, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { Authenticator, Identity } from '../auth/authenticator.ts';
import type { CacheTtls } from '../config.ts';
import { OPERATION_LIMITS } from '../limits/operations.ts';

export type { Cache };

/** Answers cached at most, whatever their size; the least recently used go first. */
const MAX_ANSWERS = 10_000;

/** Everything that is the caller's own or live: a query selecting any of it is answered afresh. */
const NEVER: Record<string, number> = Object.fromEntries(
  [
    'Query.balance',
    'Query.order',
    'Query.orders',
    'Query.smsOrder',
    'Query.placedOrders',
    'Query.placedSmsOrders',
    'Money',
    'Order',
    'SmsOrder',
    'PlacedOrder',
    'PlacedSmsOrder',
    'Query.refill',
    'Refill',
    'Query.me',
    'Me',
    'Query.orderEvents',
    'OrderEvent',
    'Query.webhookEndpoints',
    'Query.webhookDeliveries',
    'WebhookEndpoint',
    'WebhookDelivery',
  ].map((coordinate) => [coordinate, 0]),
);

/** Why an answer left the cache, or never entered it: `hstock_response_cache_evictions_total`'s `reason`. */
type EvictionReason = 'space' | 'too_large' | 'expired' | 'invalidated';

export interface ResponseCacheBounds {
  /** All answers together, each counted as its JSON text twice (the text sent, and the data it was made from). */
  maxBytes: number;
  /** An answer larger than this is sent and never kept. */
  maxAnswerBytes: number;
  onEvict?: (reason: EvictionReason) => void;
  /** The other instances' caches (Redis pub/sub): told of each invalidation here, telling this one of theirs. */
  peers?: Peers;
}

/** One message per invalidation, to every instance; a lost one costs an answer its TTL, as before. */
interface Peers {
  publish(message: string): Promise<unknown>;
  listen(listener: (message: string) => void): void;
}

type Entity = { typename: string; id?: string | number };

/** The entities of a peer's message, or none when it is not one. */
function entitiesIn(message: string): Entity[] {
  try {
    const parsed = JSON.parse(message) as unknown;
    return Array.isArray(parsed) ? parsed.filter((each): each is Entity => typeof each?.typename === 'string') : [];
  } catch {
    return [];
  }
}

export interface ResponseCache extends Cache {
  /** What the cached answers count for against maxBytes. */
  readonly bytes: number;
}

/** Answers refused for their size, by their data: counted `not_stored`, whatever the plugin believes. */
const refused = new WeakSet<object>();

/**
 * Whole answers bounded in bytes, not only in count: one answer can be a megabyte, and a count alone
 * let a caller fill the process with 400 of them. Entities index the answers that show them, so an
 * order can drop the answers with the stock it changed (as the plugin's in-memory cache does).
 */
export function createResponseCache(bounds: ResponseCacheBounds): ResponseCache {
  const onEvict = bounds.onEvict ?? (() => {});
  const byEntity = new Map<string, Set<string>>();
  const entitiesOf = new Map<string, string[]>();
  const unindex = (key: string) => {
    for (const entity of entitiesOf.get(key) ?? []) {
      const keys = byEntity.get(entity);
      keys?.delete(key);
      if (keys?.size === 0) byEntity.delete(entity);
    }
    entitiesOf.delete(key);
  };
  let invalidating = false;
  const answers = new LRUCache<string, ExecutionResult>({
    max: MAX_ANSWERS,
    maxSize: bounds.maxBytes,
    noDisposeOnSet: true,
    dispose: (_answer, key, reason) => {
      unindex(key);
      if (reason === 'evict') onEvict('space');
      else if (reason === 'expire') onEvict('expired');
      else if (reason === 'delete' && invalidating) onEvict('invalidated');
    },
  });
  const invalidate = (entities: Iterable<Entity>) => {
    invalidating = true;
    try {
      for (const { typename, id } of entities) {
        for (const key of [...(byEntity.get(id === undefined ? typename : `${typename}:${id}`) ?? [])]) answers.delete(key);
      }
    } finally {
      invalidating = false;
    }
  };
  bounds.peers?.listen((message) => invalidate(entitiesIn(message)));
  return {
    get bytes() {
      return answers.calculatedSize;
    },
    get: (key) => answers.get(key) ?? null,
    set(key, answer, entities, ttl) {
      const data = answer.data;
      if (!data) return;
      // Serialised now, once: the size is known before anything is kept, and a hit sends this text.
      const text = textOf(data, { data });
      const size = 2 * Buffer.byteLength(text) + key.length;
      if (size > bounds.maxAnswerBytes || size > bounds.maxBytes) {
        refused.add(data);
        onEvict('too_large');
        return;
      }
      answers.set(key, answer, { ttl: Number.isFinite(ttl) ? ttl : undefined, size });
      const ids = [...entities].flatMap(({ typename, id }) => (id === undefined ? [typename] : [typename, `${typename}:${id}`]));
      entitiesOf.set(key, ids);
      for (const id of ids) {
        let keys = byEntity.get(id);
        if (!keys) byEntity.set(id, (keys = new Set()));
        keys.add(key);
      }
    },
    invalidate(entities) {
      const all = [...entities];
      invalidate(all);
      // Another instance may hold answers showing the same stock: it drops them too.
      void bounds.peers?.publish(JSON.stringify(all)).catch(() => undefined);
    },
  };
}

/**
 * What the whole-answer cache did for a request, as `hstock_response_cache_total` counts it and
 * the access log's `cache` field names it: `hit` (the cached answer sent), `not_modified` (304 to a
 * client holding it), `miss` (not kept yet: answered and kept), `not_stored` (answered afresh and
 * not kept: it reads the caller's own or live data, has errors, was served stale or read no data),
 * `bypass` (not looked up: a query over WebSocket or without credentials). Mutations,
 * subscriptions and requests refused before execution are no cache reads and are not counted.
 */
export type CacheOutcome = 'hit' | 'not_modified' | 'miss' | 'not_stored' | 'bypass';

/** Where the answer was decided: by the HTTP server before Yoga, or in GraphQL's pipeline. */
type CachePath = 'http' | 'graphql';

export type CacheCounter = (path: CachePath, outcome: CacheOutcome) => void;

const outcomes = new WeakMap<Request, CacheOutcome>();

/** The cache's outcome for a request that went through Yoga, for its access-log line. */
export const cacheOutcomeOf = (request: Request): CacheOutcome | undefined => outcomes.get(request);

/** How the response cache marks an answer it served. */
const SERVED = Symbol.for('servedFromResponseCache');

/** One caller's answers, apart from its answers with other scopes (a customer may sign in again with fewer). */
export const sessionOf = (identity: Identity) =>
  identity.ok ? `${identity.tenant}:${identity.caller}${identity.scopes ? `:${[...identity.scopes].sort().join(' ')}` : ''}` : null;

/** Parsing for the key stops where the operation limits refuse a document. */
const MAX_TOKENS = OPERATION_LIMITS.tokens;

/** Documents whose declared variables are known, by text; catalogue pages use a handful. */
const declared = new LRUCache<string, { names: ReadonlySet<string> | null }>({ max: 1000 });

/** The names an operation declares; null when GraphQL would refuse the document anyway. */
function declaredVariables(documentString: string, operationName: string | null | undefined): ReadonlySet<string> | null {
  const cacheKey = `${operationName ?? ''}\u0000${documentString}`;
  let entry = declared.get(cacheKey);
  if (!entry) {
    let names: ReadonlySet<string> | null = null;
    try {
      const operation = getOperationAST(parse(documentString, { noLocation: true, maxTokens: MAX_TOKENS }), operationName);
      if (operation) names = new Set((operation.variableDefinitions ?? []).map((definition) => definition.variable.name.value));
    } catch {
      // Not a document: it is never answered from the cache, nor kept.
    }
    declared.set(cacheKey, (entry = { names }));
  }
  return entry.names;
}

/**
 * The key of a cached answer, also its ETag: node:crypto's hash, in the request's own turn. Only the
 * variables the operation declares are part of it: GraphQL ignores the others, and one that changed
 * at each request made each a new entry of the same answer.
 */
export function answerKey(
  sessionId: string | null | undefined,
  operationName: string | null | undefined,
  documentString: string,
  variables: unknown,
): string {
  const names = declaredVariables(documentString, operationName);
  const used =
    names && typeof variables === 'object' && variables !== null
      ? Object.fromEntries(Object.entries(variables).filter(([name]) => names.has(name)))
      : (variables ?? {});
  return createHash('sha256')
    .update(`${sessionId ?? ''}\u0000${operationName ?? ''}\u0000${documentString}\u0000${JSON.stringify(used)}`)
    .digest('base64url');
}

/** A cached answer is serialised once: its text lives as long as its data, in the cache. */
const texts = new WeakMap<object, string>();
export function textOf(data: object, answer: unknown): string {
  let text = texts.get(data);
  if (text === undefined) texts.set(data, (text = JSON.stringify(answer)));
  return text;
}

/**
 * Every answer depends on the credentials that asked: a shared cache (a CDN, a proxy) must never
 * give one caller's answer to another, and a browser revalidates its copy (ETag) before using it.
 */
export const PRIVATE_ANSWER = { 'cache-control': 'private, no-cache', vary: 'Authorization, X-Api-Key' } as const;

/** Whether an answer holds anything but `__typename`. */
const readsData = (data: unknown): boolean =>
  typeof data === 'object' && data !== null && Object.keys(data).some((field) => field !== '__typename');

/** What the cache adds to a result's extensions (includeExtensionMetadata); never sent to the client. */
interface CacheMetadata {
  hit?: boolean;
  didCache?: boolean;
}

export function useCatalogueResponseCache(seconds: CacheTtls, auth: Authenticator, cache: Cache, count: CacheCounter): Plugin {
  const identity = (request: Request) => auth.identifyRequest(request);
  const usable = (request: Request | undefined) => request !== undefined && identity(request).ok;
  const record = (request: Request | undefined, outcome: CacheOutcome) => {
    if (request) outcomes.set(request, outcome);
    count('graphql', outcome);
  };
  const plugin: Plugin = useResponseCache({
    cache,
    // The longest catalogue TTL; every type read lowers it to its own.
    ttl: Math.max(seconds.categories, seconds.services, seconds.smsCountries, seconds.smsProjects, seconds.inventory) * 1000,
    ttlPerSchemaCoordinate: {
      ...NEVER,
      Category: seconds.categories * 1000,
      Subcategory: seconds.categories * 1000,
      Service: seconds.services * 1000,
      ServiceConnection: seconds.services * 1000,
      Inventory: seconds.inventory * 1000,
      SmsCountry: seconds.smsCountries * 1000,
      SmsProject: seconds.smsProjects * 1000,
    },
    session: (request) => sessionOf(identity(request)),
    // No identity, no cache: an answer to a bad key is never kept, nor a cached one served to it.
    // Nor over WebSocket, where there is no HTTP request to answer before the pipeline.
    enabled: usable,
    // An answer served stale because the supplier failed is not kept past this request.
    // Nor an answer that read no data (`{ __typename }`, the usual liveness probe): it must go
    // through GraphQL each time to prove that GraphQL answers, and it costs nothing to compute.
    shouldCacheResult: ({ result }) => !result.errors?.length && result.extensions?.stale === undefined && readsData(result.data),
    // What the cache did, for its counter: read and removed from the result before it is sent.
    includeExtensionMetadata: true,
    // The default's WebCrypto digest cost a tenth of a cached answer's time.
    buildResponseCacheKey: ({ documentString, variableValues, operationName, sessionId }) =>
      answerKey(sessionId, operationName, documentString, variableValues),
    // Inventory is known by its service: an order invalidates the answers that show that stock.
    idFields: ['id', 'serviceId'],
  });
  // The plugin's own 304 answers any ETag in the cache, whoever asks, before the caller's key and
  // limits are looked at; the one below answers only the caller's own entry, after them.
  delete plugin.onRequest;
  return {
    onPluginInit: ({ addPlugin }) => addPlugin(plugin),
    onExecute: ({ args }) => {
      const request = (args.contextValue as { request?: Request }).request;
      if (!usable(request) && getOperationAST(args.document, args.operationName)?.operation === 'query') record(request, 'bypass');
    },
    onResultProcess: ({ request, result, setResult, resultProcessor, setResultProcessor }) => {
      if (Array.isArray(result) || isAsyncIterable(result) || result.extensions?.responseCache === undefined) return;
      const { responseCache, ...extensions } = result.extensions as {
        responseCache: CacheMetadata;
        http?: { headers?: Record<string, string> };
      };
      const answer = { ...result, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
      if (responseCache.hit) {
        // The ETag of a cached answer is its key, which names the caller: a match is the caller's own copy.
        const { ETag: etag, 'Last-Modified': lastModified } = extensions.http?.headers ?? {};
        if (etag && resultProcessor && request.headers.get('if-none-match') === etag) {
          record(request, 'not_modified');
          const headers = { ...PRIVATE_ANSWER, etag, ...(lastModified ? { 'last-modified': lastModified } : {}) };
          return setResultProcessor((_result, fetchAPI) => new fetchAPI.Response(null, { status: 304, headers }), 'application/json');
        }
        record(request, 'hit');
        const data = result.data;
        if (SERVED in result && data) return setResult({ ...answer, stringify: (sent: unknown) => textOf(data, sent) });
      } else if (responseCache.didCache !== undefined) {
        record(request, responseCache.didCache && !(result.data && refused.has(result.data)) ? 'miss' : 'not_stored');
      }
      setResult(answer); // a mutation's invalidated entities are not the client's either
    },
    onResponse: ({ response }) => {
      const type = response.headers.get('content-type') ?? '';
      if (!/json/.test(type)) return; // pages, assets and streams say their own; a 304 above has them
      for (const [name, value] of Object.entries(PRIVATE_ANSWER)) {
        if (name === 'vary') response.headers.append(name, value);
        else response.headers.set(name, value);
      }
    },
  };
}
