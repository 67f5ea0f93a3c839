/**
 * Whole answers to catalogue queries, kept as long as the data they read and answered before
 * parsing, validation and execution; with an ETag, and 304 for a client that has the answer.
 * Keyed by tenant and caller, document and variables. What a caller must not share (balance,
 * orders, SMS orders, the ledger) is never kept: any query that selects it is not cached.
 */
import { type Cache, createInMemoryCache, useResponseCache } from '@graphql-yoga/plugin-response-cache';

export type { Cache };
import type { Plugin } from 'graphql-yoga';
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

export function useCatalogueResponseCache(seconds: CacheTtls, auth: Authenticator, cache: Cache): Plugin {
  const identity = (request: Request) => auth.identifyRequest(request);
  return useResponseCache({
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
    // Inventory is known by its service: an order invalidates the answers that show that stock.
    idFields: ['id', 'serviceId'],
  });
}
