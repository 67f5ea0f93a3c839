import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

export const REQUEST_ID_HEADER = 'x-request-id';
/** A caller's own request id is kept when it is short and plain, so it can go into logs as it is. */
const ACCEPTABLE_REQUEST_ID = /^[\w.-]{1,64}$/;

/** The id a request goes by: the caller's `X-Request-Id` when acceptable, a new UUID otherwise. */
export const requestIdFrom = (requested: string | null | undefined): string =>
  requested && ACCEPTABLE_REQUEST_ID.test(requested) ? requested : randomUUID();

/**
 * Every request has an id (see `requestIdFrom`). It is in the context for logs and sent back in the
 * response header. A graphql-ws operation has no HTTP request of its own and gets a new id.
 */
export function useRequestId(): Plugin<{ requestId?: string }> {
  const ids = new WeakMap<Request, string>();
  return {
    onRequest: ({ request }) => {
      ids.set(request, requestIdFrom(request.headers.get(REQUEST_ID_HEADER)));
    },
    onContextBuilding: ({ context, extendContext }) => {
      const request = (context as { request?: Request }).request;
      extendContext({ requestId: (request && ids.get(request)) ?? randomUUID() });
    },
    onResponse: ({ request, response }) => {
      const id = ids.get(request);
      if (id) response.headers.set(REQUEST_ID_HEADER, id);
    },
  };
}
