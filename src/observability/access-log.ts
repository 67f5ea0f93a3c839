/**
 * The access log: one line per HTTP request, built here for every path that answers one (Yoga's,
 * the cached answers the HTTP server sends itself, a body refused before it is read).
 */
import type { Logger } from './logger.ts';

interface RequestLine {
  /** The caller's `X-Request-Id`, or the one the gateway gave the request. */
  requestId: string | null | undefined;
  method: string | undefined;
  /** The URL's path, never its query string. */
  path: string | undefined;
  operation?: string;
  type?: string;
  status: number;
  durationMs: number;
  supplierCalls: number;
  /** The whole tenant hash: the line keeps its first 8 characters, enough to follow one tenant. */
  tenant?: string;
  /** What the response cache did, and where (`hstock_response_cache_total`'s `result` and `path`). */
  cache?: string;
  cachePath?: 'http' | 'graphql';
}

export type AccessLog = (line: RequestLine) => void;

export const accessLog =
  (logger: Logger): AccessLog =>
  ({ tenant, durationMs, ...line }) =>
    logger.info({ ...line, durationMs: Math.round(durationMs), tenant: tenant?.slice(0, 8) }, 'request');
