import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { forbidden, SCOPES, unauthenticated, type Scope } from '../auth/scopes.ts';
import type { Context } from '../graphql/context.ts';

/** The first scope a refused field lacked. */
function lacking(failure: AuthFailure): string | undefined {
  if (failure.kind === AuthScopeFailureType.AuthScope) return failure.scope;
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) {
    for (const child of failure.failures) {
      const scope = lacking(child);
      if (scope) return scope;
    }
  }
  return undefined;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: Record<Scope, boolean>;
  Scalars: {
    Decimal: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | string };
    ID: { Input: string; Output: string | number };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  defaultFieldNullability: false,
  // Scopes first, so that no other plugin's wrapper runs before a refused field is refused.
  plugins: [ScopeAuthPlugin, RelayPlugin],
  scopeAuth: {
    // Subscriptions are refused when they start, not at their first event.
    authorizeOnSubscribe: true,
    authScopes: ({ identity }) => {
      // A caller with no identity is told so (UNAUTHENTICATED), not that it lacks a scope.
      if (!identity.ok) throw unauthenticated(identity);
      const scopes = identity.scopes;
      return Object.fromEntries((Object.keys(SCOPES) as Scope[]).map((scope) => [scope, scopes?.has(scope) ?? true])) as Record<
        Scope,
        boolean
      >;
    },
    unauthorizedError: (_parent, _context, _info, result) => forbidden(lacking(result.failure) ?? 'required'),
  },
  relay: {
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: false, description: 'The items of this page, in order, each with its cursor.' },
    nodeFieldOptions: { nullable: false, description: 'The item itself.' },
    cursorFieldOptions: { description: 'Pass it as `after` to get the items that follow this one. Opaque: do not parse it.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.' },
    pageInfoTypeOptions: { description: 'Where a page sits in its list (Relay cursor connections).' },
    hasNextPageFieldOptions: { description: 'True when more items follow: ask again with `after: endCursor`.' },
    hasPreviousPageFieldOptions: { description: 'True when this page was asked for with `after` and items precede it.' },
    startCursorFieldOptions: { description: 'The cursor of the first item of this page; null when the page is empty.' },
    endCursorFieldOptions: {
      description: 'The cursor of the last item of this page, to pass as `after` for the next one; null when the page is empty.',
    },
  },
});

builder.queryType({
  description:
    'Reads: the catalogue (cached), the balance, orders and SMS orders (live), and what the calling client placed through this gateway.',
});
builder.mutationType({
  description:
    'Placements that spend money. Each is checked before the supplier is called, is never retried by the gateway, and takes an `idempotencyKey` so that a client can retry safely.',
});
builder.subscriptionType({
  description:
    'Live order and SMS state over WebSocket (graphql-ws) or Server-Sent Events: the current state at once, then each change, then completion after a final state. A failure arrives as a last payload with `errors`, then completion.',
});
