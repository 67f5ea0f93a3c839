import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import type { Context } from '../graphql/context.ts';

export const builder = new SchemaBuilder<{
  Context: Context;
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
  plugins: [RelayPlugin],
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
