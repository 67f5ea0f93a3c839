import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { GatewayError } from '../../errors.ts';

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
