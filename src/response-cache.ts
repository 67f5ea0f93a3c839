/**
 * Whole answers to catalogue queries, kept as long as the data they read and answered before
 * parsing, validation and execution; with an ETag, and 304 for a client that has the answer.
 * Keyed by tenant and caller, document and variables. What a caller must not share (balance,
 * orders, SMS orders, the ledger) is never kept: any query that selects it is not cached.
 */
import { type Cache, createInMemoryCache, useResponseCache } from '@graphql-yoga/plugin-response-cache';

export type { Cache };
import { createHash } from 'node:crypto';
import { type Plugin, isAsyncIterable } from 'graphql-yoga';
import type { Authenticator } from './auth.ts';
import type { CacheTtls } from './config.ts';

/** Answers kept at most; the least recently used go first. */
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

export function createResponseCache(): Cache {
  return createInMemoryCache({ max: MAX_ANSWERS });
}

/** How the response cache marks an answer it served. */
const SERVED = Symbol.for('servedFromResponseCache');

export function useCatalogueResponseCache(seconds: CacheTtls, auth: Authenticator, cache: Cache): Plugin {
  const identity = (request: Request) => auth.identifyRequest(request);
  // A kept answer is serialised once: its text lives as long as its data, in the cache.
  const texts = new WeakMap<object, string>();
  const kept = useResponseCache({
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
    session: (request) => {
      const known = identity(request);
      return known.ok ? `${known.tenant}:${known.caller}` : null;
    },
    // No identity, no cache: an answer to a bad key is never kept, nor one kept served to it.
    // Nor over WebSocket, where there is no HTTP request to answer before the pipeline.
    enabled: (request) => request !== undefined && identity(request).ok,
    // An answer served stale because the supplier failed is not kept past this request.
    shouldCacheResult: ({ result }) => !result.errors?.length && result.extensions?.stale === undefined,
    includeExtensionMetadata: false,
    // node:crypto's hash, in the request's own turn: the default's WebCrypto digest cost a tenth
    // of a kept answer's time. The key is also the ETag.
    buildResponseCacheKey: ({ documentString, variableValues, operationName, sessionId }) =>
      createHash('sha256')
        .update(`${sessionId ?? ''}\u0000${operationName ?? ''}\u0000${documentString}\u0000${JSON.stringify(variableValues ?? {})}`)
        .digest('base64url'),
    // Inventory is known by its service: an order invalidates the answers that show that stock.
    idFields: ['id', 'serviceId'],
  });
  return {
    onPluginInit: ({ addPlugin }) => addPlugin(kept),
    onResultProcess: ({ result, setResult }) => {
      if (Array.isArray(result) || isAsyncIterable(result) || !(SERVED in result) || !result.data) return;
      const data: object = result.data;
      setResult({
        ...result,
        stringify: (answer: unknown) => {
          let text = texts.get(data);
          if (text === undefined) texts.set(data, (text = JSON.stringify(answer)));
          return text;
        },
      });
    },
  };
}
