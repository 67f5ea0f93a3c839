/**
 * Whole answers to catalogue queries, kept as long as the data they read and answered before
 * parsing, validation and execution; with an ETag, and 304 for a client that has the answer.
 * Keyed by tenant and caller, document and variables. What a caller must not share (balance,
 * orders, SMS orders, the ledger) is never kept: any query that selects it is not cached.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Cache, useResponseCache } from '@graphql-yoga/plugin-response-cache';
import { type ExecutionResult, getOperationAST, parse } from 'graphql';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { type Authenticator, type Identity, PREFLIGHT_HEADERS } from '../auth/authenticator.ts';
import type { CacheTtls } from '../config.ts';
import { type PersistedDocuments, documentIdOf, documentOfOperation } from './persisted-documents.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from '../http/request-id.ts';

export type { Cache };

/** Answers kept at most, whatever their size; the least recently used go first. */
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
  ].map((coordinate) => [coordinate, 0]),
);

/** Why an answer left the cache, or never entered it: `hstock_response_cache_evictions_total`'s `reason`. */
export type EvictionReason = 'space' | 'too_large' | 'expired' | 'invalidated';

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
export interface Peers {
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
  /** What the kept answers count for against maxBytes. */
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
 * the access log's `cache` field names it: `hit` (the kept answer sent), `not_modified` (304 to a
 * client holding it), `miss` (not kept yet: answered and kept), `not_stored` (answered afresh and
 * not kept: it reads the caller's own or live data, has errors, was served stale or read no data),
 * `bypass` (not looked up: a query over WebSocket or without credentials). Mutations,
 * subscriptions and requests refused before execution are no cache reads and are not counted.
 */
export type CacheOutcome = 'hit' | 'not_modified' | 'miss' | 'not_stored' | 'bypass';

/** Where the answer was decided: by the HTTP server before Yoga, or in GraphQL's pipeline. */
export type CachePath = 'http' | 'graphql';

export type CacheCounter = (path: CachePath, outcome: CacheOutcome) => void;

const outcomes = new WeakMap<Request, CacheOutcome>();

/** The cache's outcome for a request that went through Yoga, for its access-log line. */
export const cacheOutcomeOf = (request: Request): CacheOutcome | undefined => outcomes.get(request);

/** How the response cache marks an answer it served. */
const SERVED = Symbol.for('servedFromResponseCache');

const sessionOf = (identity: Identity) => (identity.ok ? `${identity.tenant}:${identity.caller}` : null);

/** Parsing for the key stops where the operation limits refuse a document (OPERATION_LIMITS.tokens in plugins.ts). */
const MAX_TOKENS = 5000;

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
 * The key of a kept answer, also its ETag: node:crypto's hash, in the request's own turn. Only the
 * variables the operation declares are part of it: GraphQL ignores the others, and one that changed
 * at each request made each a new entry of the same answer.
 */
function answerKey(sessionId: string | null | undefined, operationName: string | null | undefined, documentString: string, variables: unknown): string {
  const names = declaredVariables(documentString, operationName);
  const used =
    names && typeof variables === 'object' && variables !== null ? Object.fromEntries(Object.entries(variables).filter(([name]) => names.has(name))) : (variables ?? {});
  return createHash('sha256')
    .update(`${sessionId ?? ''}\u0000${operationName ?? ''}\u0000${documentString}\u0000${JSON.stringify(used)}`)
    .digest('base64url');
}

/** A kept answer is serialised once: its text lives as long as its data, in the cache. */
const texts = new WeakMap<object, string>();
function textOf(data: object, answer: unknown): string {
  let text = texts.get(data);
  if (text === undefined) texts.set(data, (text = JSON.stringify(answer)));
  return text;
}

/**
 * Every answer depends on the credentials that asked: a shared cache (a CDN, a proxy) must never
 * give one caller's answer to another, and a browser revalidates its copy (ETag) before using it.
 */
const PRIVATE_ANSWER = { 'cache-control': 'private, no-cache', vary: 'Authorization, X-Api-Key' } as const;

/** Whether the client takes a plain JSON answer (not only a stream or a page). */
const acceptsJson = (accept: string | undefined) =>
  !accept || (/application\/(graphql-response\+)?json|\*\/\*/.test(accept) && !/text\/event-stream|multipart\/mixed/.test(accept));

/** The body types Yoga reads as JSON; anything else is GraphQL's to answer (or refuse). */
const JSON_BODY = /^application\/(graphql-response\+)?json\s*(;|$)/i;

/** A request whose client went while its body was being read. */
const GONE = Symbol('gone');

/** Largest POST body the HTTP server reads itself to look for a kept answer; catalogue queries are far smaller. */
const MAX_PEEKED_BODY = 16 * 1024;

interface Params {
  query: string;
  variables: unknown;
  operationName: string | null;
}

/** What a request names: its query, or a persisted document's id; its variables and operation. */
interface Named {
  query?: unknown;
  documentId?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

/**
 * The operation a request names, as GraphQL would run it: its own query (unless only persisted
 * documents run), or the document its id names. Undefined for anything GraphQL must look at
 * itself: extensions other than a persisted query's id, an unknown id, a malformed request.
 */
function resolve(named: Named, documents: PersistedDocuments, only: boolean): Params | undefined {
  // Parameters GraphQL would refuse are left to it to refuse.
  if (named.query !== undefined && named.query !== null && typeof named.query !== 'string') return undefined;
  if (named.operationName !== undefined && named.operationName !== null && typeof named.operationName !== 'string') return undefined;
  if (named.variables !== undefined && named.variables !== null && (typeof named.variables !== 'object' || Array.isArray(named.variables))) return undefined;
  const extensions = named.extensions ?? {};
  if (typeof extensions !== 'object' || extensions === null) return undefined;
  const { persistedQuery, ...other } = extensions as { persistedQuery?: unknown };
  if (Object.keys(other).length > 0) return undefined;
  // The same rules as every other transport; what they refuse is GraphQL's to refuse.
  const query = documentOfOperation(named, documents, only);
  if (typeof query !== 'string' || (persistedQuery !== undefined && documentIdOf(named) === undefined)) return undefined;
  return { query, variables: named.variables ?? undefined, operationName: typeof named.operationName === 'string' ? named.operationName : null };
}

/** A GET's operation, from its query string. */
function namedInUrl(url: URL): Named | undefined {
  try {
    const json = (name: string) => JSON.parse(url.searchParams.get(name) ?? 'null') ?? undefined;
    const text = (name: string) => url.searchParams.get(name) ?? undefined;
    return { query: text('query'), documentId: text('documentId'), variables: json('variables'), operationName: text('operationName'), extensions: json('extensions') };
  } catch {
    return undefined;
  }
}

/**
 * A small JSON POST's operation, read whole. The body is handed on with the request (`req.body`,
 * which Yoga's adapter takes as it is), so a miss goes through GraphQL as if nothing had read it.
 * Bodies without a length, or longer than both limits allow, are left unread to Yoga's limit.
 */
async function namedInBody(req: IncomingMessage, maxBytes: number): Promise<Named | undefined | typeof GONE> {
  const length = Number(req.headers['content-length']);
  if (!JSON_BODY.test(req.headers['content-type'] ?? '') || !(length > 0 && length <= Math.min(maxBytes, MAX_PEEKED_BODY))) return undefined;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return GONE; // the client went (or took too long) in the middle of its body: nobody to answer
  }
  const body = Buffer.concat(chunks);
  (req as IncomingMessage & { body?: Buffer }).body = body;
  try {
    const named = JSON.parse(body.toString('utf8')) as unknown;
    return typeof named === 'object' && named !== null && !Array.isArray(named) ? (named as Named) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A kept answer to a GET or a small JSON POST (its own query or a persisted document's id), sent
 * by `node:http` itself, before Yoga builds a
 * Fetch request: same key, same text, same ETag and 304 as through GraphQL. Anything else falls
 * through to Yoga: a request from a browser page (it needs CORS), one without credentials or the
 * headers that prove it is no cross-site "simple" request, a miss, or a tenant out of tokens
 * (Yoga then answers 429).
 */
export function answerFromCache(
  auth: Authenticator,
  cache: Cache,
  take: (tenant: string) => Promise<number>,
  log: (fields: Record<string, unknown>) => void,
  limits: { maxBodyBytes: number; documents: PersistedDocuments; only: boolean },
  count: CacheCounter,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const started = performance.now();
    if ((req.method !== 'GET' && req.method !== 'POST') || req.headers.origin !== undefined || !PREFLIGHT_HEADERS.some((name) => req.headers[name] !== undefined)) return false;
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== '/graphql' || !acceptsJson(req.headers.accept)) return false;
    const identity = auth.identify({ authorization: req.headers.authorization, apiKey: req.headers['x-api-key'] as string | undefined });
    if (!identity.ok) return false;
    const named = req.method === 'GET' ? namedInUrl(url) : await namedInBody(req, limits.maxBodyBytes);
    if (named === GONE) {
      req.destroy();
      return true;
    }
    const params = named && resolve(named, limits.documents, limits.only);
    if (!params) return false;
    const key = answerKey(sessionOf(identity), params.operationName, params.query, params.variables);
    const kept = await cache.get(key);
    if (!kept?.data || (await take(identity.tenant)) > 0) return false;
    const lastModified = (kept.extensions as { http?: { headers?: Record<string, string> } } | undefined)?.http?.headers?.['Last-Modified'];
    const headers: Record<string, string> = {
      ...PRIVATE_ANSWER,
      etag: key,
      [REQUEST_ID_HEADER]: requestIdFrom(req.headers[REQUEST_ID_HEADER] as string | undefined),
      ...(lastModified ? { 'last-modified': lastModified } : {}),
    };
    const outcome: CacheOutcome = req.headers['if-none-match'] === key ? 'not_modified' : 'hit';
    if (outcome === 'not_modified') {
      res.writeHead(304, headers).end();
    } else {
      const accepted = String(req.headers.accept ?? '').includes('application/graphql-response+json') ? 'application/graphql-response+json' : 'application/json';
      const text = textOf(kept.data, { data: kept.data });
      res.writeHead(200, { ...headers, 'content-type': `${accepted}; charset=utf-8`, 'content-length': String(Buffer.byteLength(text)) }).end(text);
    }
    log({ requestId: headers[REQUEST_ID_HEADER], method: req.method, path: '/graphql', operation: params.operationName ?? undefined, type: 'query', status: res.statusCode, durationMs: Math.round(performance.now() - started), supplierCalls: 0, tenant: identity.tenant.slice(0, 8), cache: outcome, cachePath: 'http' });
    count('http', outcome);
    return true;
  };
}

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
  const kept: Plugin = useResponseCache({
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
    // No identity, no cache: an answer to a bad key is never kept, nor one kept served to it.
    // Nor over WebSocket, where there is no HTTP request to answer before the pipeline.
    enabled: usable,
    // An answer served stale because the supplier failed is not kept past this request.
    // Nor an answer that read no data (`{ __typename }`, the usual liveness probe): it must go
    // through GraphQL each time to prove that GraphQL answers, and it costs nothing to compute.
    shouldCacheResult: ({ result }) => !result.errors?.length && result.extensions?.stale === undefined && readsData(result.data),
    // What the cache did, for its counter: read and removed from the result before it is sent.
    includeExtensionMetadata: true,
    // The default's WebCrypto digest cost a tenth of a kept answer's time.
    buildResponseCacheKey: ({ documentString, variableValues, operationName, sessionId }) => answerKey(sessionId, operationName, documentString, variableValues),
    // Inventory is known by its service: an order invalidates the answers that show that stock.
    idFields: ['id', 'serviceId'],
  });
  // The plugin's own 304 answers any ETag in the cache, whoever asks, before the caller's key and
  // limits are looked at; the one below answers only the caller's own entry, after them.
  delete kept.onRequest;
  return {
    onPluginInit: ({ addPlugin }) => addPlugin(kept),
    onExecute: ({ args }) => {
      const request = (args.contextValue as { request?: Request }).request;
      if (!usable(request) && getOperationAST(args.document, args.operationName)?.operation === 'query') record(request, 'bypass');
    },
    onResultProcess: ({ request, result, setResult, resultProcessor, setResultProcessor }) => {
      if (Array.isArray(result) || isAsyncIterable(result) || result.extensions?.responseCache === undefined) return;
      const { responseCache, ...extensions } = result.extensions as { responseCache: CacheMetadata; http?: { headers?: Record<string, string> } };
      const answer = { ...result, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
      if (responseCache.hit) {
        // The ETag of a kept answer is its key, which names the caller: a match is the caller's own copy.
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
