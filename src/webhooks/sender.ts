/**
 * One attempt of one delivery: a signed POST (Standard Webhooks v1), a 2xx within the timeout
 * being success. Redirects are not followed (one could lead inward). What an attempt reports
 * names no URL, address or secret: it ends up in `lastError`, logs and metrics.
 */
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { AddressRefusedError, connectLookup, refusedBecause, type Resolve } from './address-guard.ts';
import { parseRetryAfter } from './schedule.ts';
import type { WebhookDelivery, WebhookEndpoint } from './store.ts';

export type AttemptResult =
  | { outcome: 'delivered'; statusCode: number }
  | { outcome: 'failed'; statusCode: number | null; error: string; retryAfterMs?: number }
  | { outcome: 'refused_address'; error: string };

export interface SenderOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** How hosts resolve; the system's by default (tests give names of their own). */
  resolve?: Resolve;
}

/** `webhook-signature`: one `v1,<signature>` per secret still signing, the newest first. */
function signatures(endpoint: Pick<WebhookEndpoint, 'secrets'>, id: string, at: Date, body: string): string {
  return endpoint.secrets
    .filter((secret) => secret.expiresAt === undefined || secret.expiresAt > at.getTime())
    .map((secret) => new Webhook(secret.value).sign(id, at, body))
    .join(' ');
}

/** A failure's words for `lastError`: its code, never its message (which may name the address). */
function describe(error: unknown, timeoutMs: number): AttemptResult {
  if (error instanceof AddressRefusedError || (error as { cause?: unknown }).cause instanceof AddressRefusedError)
    return { outcome: 'refused_address', error: 'refused: the host resolves to no public address' };
  const name = (error as Error).name;
  const code = name === 'TimeoutError' || name === 'AbortError' ? 'TimeoutError' : ((error as { code?: string }).code ?? name);
  if (code === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return { outcome: 'failed', statusCode: null, error: `no answer within ${timeoutMs} ms` };
  return { outcome: 'failed', statusCode: null, error: `connection failed (${code})` };
}

export class WebhookSender {
  readonly #agent: Agent;

  constructor(private readonly options: SenderOptions) {
    this.#agent = new Agent({
      connect: { lookup: connectLookup(options.allowPrivate, options.resolve), timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async send(endpoint: WebhookEndpoint, delivery: WebhookDelivery, at = new Date()): Promise<AttemptResult> {
    const url = new URL(endpoint.url);
    const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!this.options.allowPrivate && isIP(literal) && refusedBecause(literal))
      return { outcome: 'refused_address', error: 'refused: the address is not public' };
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: {
          'content-type': 'application/json',
          'webhook-id': delivery.eventId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': signatures(endpoint, delivery.eventId, at, delivery.body),
        },
        body: delivery.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) return { outcome: 'delivered', statusCode: response.statusCode };
      const retryAfter = response.headers['retry-after'];
      return {
        outcome: 'failed',
        statusCode: response.statusCode,
        error: `HTTP ${response.statusCode}`,
        retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now()),
      };
    } catch (error) {
      return describe(error, this.options.timeoutMs);
    }
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}
