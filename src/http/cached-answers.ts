/**
 * Cached answers sent by the HTTP server itself, before Yoga builds a Fetch request: a GET or a
 * small JSON POST (its own query or a persisted document's id) whose answer the response cache
 * holds (graphql/response-cache.ts), with the same key, text, ETag and 304.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { limitKeyOf, PREFLIGHT_HEADERS, type Authenticator } from '../auth/authenticator.ts';
import { documentIdOf, documentOfOperation, type PersistedDocuments } from '../graphql/persisted-documents.ts';
import {
  answerKey,
  PRIVATE_ANSWER,
  sessionOf,
  textOf,
  type Cache,
  type CacheCounter,
  type CacheOutcome,
} from '../graphql/response-cache.ts';
import type { AccessLog } from '../observability/access-log.ts';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id.ts';

/** Whether the client takes a plain JSON answer (not only a stream or a page). */
const acceptsJson = (accept: string | undefined) =>
  !accept || (/application\/(graphql-response\+)?json|\*\/\*/.test(accept) && !/text\/event-stream|multipart\/mixed/.test(accept));

/** The body types Yoga reads as JSON; anything else is GraphQL's to answer (or refuse). */
const JSON_BODY = /^application\/(graphql-response\+)?json\s*(;|$)/i;

/** A request whose client went while its body was being read. */
const GONE = Symbol('gone');

/** Largest POST body the HTTP server reads itself to look for a cached answer; catalogue queries are far smaller. */
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
  if (named.variables !== undefined && named.variables !== null && (typeof named.variables !== 'object' || Array.isArray(named.variables)))
    return undefined;
  const extensions = named.extensions ?? {};
  if (typeof extensions !== 'object' || extensions === null) return undefined;
  const { persistedQuery, ...other } = extensions as { persistedQuery?: unknown };
  if (Object.keys(other).length > 0) return undefined;
  // The same rules as every other transport; what they refuse is GraphQL's to refuse.
  const query = documentOfOperation(named, documents, only);
  if (typeof query !== 'string' || (persistedQuery !== undefined && documentIdOf(named) === undefined)) return undefined;
  return {
    query,
    variables: named.variables ?? undefined,
    operationName: typeof named.operationName === 'string' ? named.operationName : null,
  };
}

/** A GET's operation, from its query string. */
function namedInUrl(url: URL): Named | undefined {
  try {
    const json = (name: string) => JSON.parse(url.searchParams.get(name) ?? 'null') ?? undefined;
    const text = (name: string) => url.searchParams.get(name) ?? undefined;
    return {
      query: text('query'),
      documentId: text('documentId'),
      variables: json('variables'),
      operationName: text('operationName'),
      extensions: json('extensions'),
    };
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
  if (!JSON_BODY.test(req.headers['content-type'] ?? '') || !(length > 0 && length <= Math.min(maxBytes, MAX_PEEKED_BODY)))
    return undefined;
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
 * A cached answer to a GET or a small JSON POST (its own query or a persisted document's id), sent
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
  log: AccessLog,
  limits: { maxBodyBytes: number; documents: PersistedDocuments; only: boolean },
  count: CacheCounter,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const started = performance.now();
    if (
      (req.method !== 'GET' && req.method !== 'POST') ||
      req.headers.origin !== undefined ||
      !PREFLIGHT_HEADERS.some((name) => req.headers[name] !== undefined)
    )
      return false;
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
    const cached = await cache.get(key);
    if (!cached?.data || (await take(limitKeyOf(identity))) > 0) return false;
    const lastModified = (cached.extensions as { http?: { headers?: Record<string, string> } } | undefined)?.http?.headers?.[
      'Last-Modified'
    ];
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
      const accepted = String(req.headers.accept ?? '').includes('application/graphql-response+json')
        ? 'application/graphql-response+json'
        : 'application/json';
      const text = textOf(cached.data, { data: cached.data });
      res
        .writeHead(200, { ...headers, 'content-type': `${accepted}; charset=utf-8`, 'content-length': String(Buffer.byteLength(text)) })
        .end(text);
    }
    log({
      requestId: headers[REQUEST_ID_HEADER],
      method: req.method,
      path: '/graphql',
      operation: params.operationName ?? undefined,
      type: 'query',
      status: res.statusCode,
      durationMs: performance.now() - started,
      supplierCalls: 0,
      tenant: identity.tenant,
      cache: outcome,
      cachePath: 'http',
    });
    count('http', outcome);
    return true;
  };
}
