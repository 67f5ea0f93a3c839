/**
 * Persisted documents (trusted documents): the operations a client was built with, known by their
 * hash, so that it can send the hash alone, as a GET a browser or a CDN can cache. The manifests
 * are the JSON files GraphQL Code Generator's client preset writes (`persisted-documents.json`:
 * `{ "<hash>": "<document>" }`), SHA-256 or SHA-1 of the document's text; each hash is checked
 * against its document when the gateway starts, so a manifest cannot map a hash to another text.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

export type PersistedDocuments = ReadonlyMap<string, string>;

const ALGORITHMS: Record<number, string> = { 64: 'sha256', 40: 'sha1' };

const withoutPrefix = (id: string) => id.replace(/^sha(256|1):/i, '').toLowerCase();

/** The documents of the manifests at `paths`; throws naming the file and the hash that is wrong. */
export function loadPersistedDocuments(paths: string[]): PersistedDocuments {
  const documents = new Map<string, string>();
  for (const path of paths) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new Error(`${path} is not a readable JSON manifest (${(error as NodeJS.ErrnoException).code ?? 'invalid JSON'})`);
    }
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest))
      throw new Error(`${path} is not an object of hashes to documents`);
    for (const [key, document] of Object.entries(manifest)) {
      // The client preset writes `sha256:<hex>`; other tools write the bare hex.
      const hash = withoutPrefix(key);
      const algorithm = ALGORITHMS[hash.length];
      if (typeof document !== 'string' || !algorithm || createHash(algorithm).update(document).digest('hex') !== hash) {
        throw new Error(`${path}: ${JSON.stringify(key.slice(0, 72))} is not the SHA-256 or SHA-1 of its document`);
      }
      documents.set(hash, document);
    }
  }
  return documents;
}

/**
 * The id a request names: `documentId` (the GraphQL-over-HTTP persisted documents field, in a
 * POST body or a GET query string, `sha256:` prefix allowed) or Apollo's
 * `extensions.persistedQuery.sha256Hash`.
 */
export function documentIdOf(params: { documentId?: unknown; extensions?: unknown }, url?: URL): string | undefined {
  const persisted = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
  const id = params.documentId ?? url?.searchParams.get('documentId') ?? persisted;
  return typeof id === 'string' && id !== '' ? withoutPrefix(id) : undefined;
}

const REFUSALS = {
  notFound: { message: 'PersistedQueryNotFound', reason: 'PERSISTED_DOCUMENT_NOT_FOUND' },
  keyNotFound: { message: 'Send a query, or the documentId of a persisted document.', reason: 'DOCUMENT_REQUIRED' },
  persistedQueryOnly: { message: 'This gateway runs persisted documents only: send a documentId.', reason: 'PERSISTED_DOCUMENTS_ONLY' },
} as const;

const refusal = ({ message, reason }: { message: string; reason: string }) => ({ message, extensions: { code: 'BAD_USER_INPUT', reason } });

/**
 * The text a WebSocket operation runs, by the same rules as over HTTP (where Yoga's plugin applies
 * them): its own query unless only persisted documents run, else the document its id names.
 */
export function documentOfOperation(
  payload: { query?: unknown; documentId?: unknown; extensions?: unknown },
  documents: PersistedDocuments,
  only: boolean,
): string | GraphQLError {
  if (typeof payload.query === 'string' && payload.query !== '') {
    return only ? new GraphQLError(REFUSALS.persistedQueryOnly.message, refusal(REFUSALS.persistedQueryOnly)) : payload.query;
  }
  const id = documentIdOf(payload);
  if (id === undefined) return new GraphQLError(REFUSALS.keyNotFound.message, refusal(REFUSALS.keyNotFound));
  return documents.get(id) ?? new GraphQLError(REFUSALS.notFound.message, refusal(REFUSALS.notFound));
}

/**
 * Yoga's persisted operations with these documents. With `only`, nothing else runs (trusted
 * documents); otherwise a request may still send its query. Unknown ids are the caller's error.
 */
export function usePersistedDocuments(documents: PersistedDocuments, only: boolean): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (id) => documents.get(id) ?? null,
    allowArbitraryOperations: !only,
    extractPersistedOperationId: (params, request) =>
      documentIdOf(params as GraphQLParams & { documentId?: unknown }, request.method === 'GET' ? new URL(request.url) : undefined) ?? null,
    // notFound's message is the one Apollo's persisted-query link looks for, so such a client falls back to the full query.
    customErrors: {
      notFound: refusal(REFUSALS.notFound),
      keyNotFound: refusal(REFUSALS.keyNotFound),
      persistedQueryOnly: refusal(REFUSALS.persistedQueryOnly),
    },
  }) as Plugin;
}
