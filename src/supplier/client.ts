/**
 * The one place that speaks the supplier's wire format: form-encoded POSTs of `key`, `action` and
 * the action's fields, JSON back, errors as `{"error": "..."}` often with HTTP 200.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { errorFromSupplier, GatewayError, isGatewayError, isUnsupportedAction, unsupportedAction, upstreamUnavailable } from '../errors.ts';
import { retryAfterMs, SupplierRateLimit, UpstreamGuard, type GuardPolicy, type RejectedKeys } from '../limits/upstream-guard.ts';
import { supplierCallSpan } from '../observability/tracing.ts';
import {
  isRecord,
  parseBalance,
  parseCancels,
  parseCategories,
  ParseError,
  parseInventory,
  parseOrderId,
  parseOrderState,
  parseOrderStates,
  parseRefillId,
  parseRefillState,
  parseRefillStates,
  parseServices,
  parseSmsCode,
  parseSmsCountries,
  parseSmsOrdersPlaced,
  parseSmsProjects,
  parseSmsStatus,
  SingleStatusOnly,
  text,
  type Each,
  type Skipped,
} from './parse.ts';
import type { Money, NewOrder, NewSmsOrder, OrderState, RefillState, ServiceFilter } from './types.ts';

export type Action =
  | 'categories'
  | 'services'
  | 'inventory'
  | 'add'
  | 'status'
  | 'balance'
  | 'sms_projects'
  | 'sms_countries'
  | 'add_sms'
  | 'sms_code'
  | 'sms_status'
  | 'refill'
  | 'refill_status'
  | 'cancel';

/**
 * Reads are safe to repeat; `add` and `add_sms` charge money and the supplier has no idempotency
 * key, so a retry after an ambiguous failure could place (and charge) a second order. `refill`
 * and `cancel` act on orders: a second refill of one, or a cancel asked twice, is not the caller's.
 */
const RETRYABLE: Record<Action, boolean> = {
  categories: true,
  services: true,
  inventory: true,
  status: true,
  balance: true,
  sms_projects: true,
  sms_countries: true,
  sms_code: true,
  sms_status: true,
  refill_status: true,
  add: false,
  add_sms: false,
  refill: false,
  cancel: false,
};

/** `parse_error`: the supplier answered, and the answer could not be read. */
type CallOutcome = 'ok' | 'supplier_error' | 'unavailable' | 'rate_limited' | 'parse_error';

export interface CallEvent {
  action: Action;
  outcome: CallOutcome;
  attempts: number;
  durationMs: number;
  /** What could not be read: the whole answer (`parse_error`), or entries of a list left out. Never the key. */
  problems?: string[];
}

export interface HstockClientOptions {
  url: string;
  timeoutMs: number;
  connections: number;
  /** Retries after the first attempt for reads (default 2). */
  retries?: number;
  /** Base of the exponential backoff between retries, before full jitter (default 100 ms). */
  retryBaseMs?: number;
  guard: GuardPolicy;
  rejectedKeys?: RejectedKeys;
  onCall?: (event: CallEvent) => void;
  /** Told once when the supplier turns out not to have an action (it is then not asked again for a while). */
  onUnsupported?: (action: Action, upstreamMessage: string | undefined) => void;
  /** Told once when the supplier turns out to read one order (or refill) per status call. */
  onSingleStatus?: (action: 'status' | 'refill_status') => void;
}

type Params = Record<string, string | number | undefined>;

/** `add`'s fields by the family's names: a list one entry a line, the expiry as d/m/Y; absent ones are not sent. */
function addFields(order: NewOrder): Params {
  const { subscription } = order;
  const lines = (entries: string[] | undefined) => entries?.join('\n');
  const [year, month, day] = subscription?.expiry?.split('-') ?? [];
  return {
    service: order.serviceId,
    quantity: order.quantity,
    link: order.link,
    runs: order.runs,
    interval: order.interval,
    comments: lines(order.comments),
    usernames: lines(order.usernames),
    hashtags: lines(order.hashtags),
    hashtag: order.hashtag,
    username: order.username ?? subscription?.username,
    media: order.media,
    answer_number: order.answerNumber,
    groups: lines(order.groups),
    keywords: lines(order.keywords),
    min: subscription?.min,
    max: subscription?.max,
    posts: subscription?.posts,
    old_posts: subscription?.oldPosts,
    delay: subscription?.delay,
    expiry: day && `${day}/${month}/${year}`,
  };
}

/** A failed attempt that a read may retry. */
class TransientFailure extends Error {
  constructor(
    readonly error: GatewayError,
    /** Whether the request may have reached the supplier (for orders: may exist). */
    readonly maybeDelivered: boolean,
  ) {
    super(error.message);
  }
}

/** The readiness probe's key: never a real one, so the supplier answers with its key error. */
const PROBE_KEY = 'hstock-gateway-readiness-probe';

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

/** What the supplier may lack besides whole actions: reading many orders or refills in one call. */
const MANY_STATUSES = 'status orders=';
const MANY_REFILLS = 'refill_status refills=';
type Lack = Action | typeof MANY_STATUSES | typeof MANY_REFILLS;

/** How long what the supplier showed it lacks is not asked for again: a panel may gain it. */
const UNSUPPORTED_FOR_MS = 10 * 60_000;

export class HstockClient {
  readonly #pool: Pool;
  readonly #path: string;
  readonly #options: Required<Omit<HstockClientOptions, 'onCall' | 'rejectedKeys' | 'onUnsupported' | 'onSingleStatus'>> &
    Pick<HstockClientOptions, 'onCall' | 'onUnsupported' | 'onSingleStatus'>;
  /** Actions this supplier (this client's origin) answered as unknown, until when they are not asked again. */
  readonly #lacking = new Map<Lack, number>();
  readonly guard: UpstreamGuard;

  constructor(options: HstockClientOptions) {
    const url = new URL(options.url);
    this.#path = url.pathname + url.search;
    this.#options = { retries: 2, retryBaseMs: 100, ...options };
    this.guard = new UpstreamGuard(options.guard, options.rejectedKeys);
    this.#pool = new Pool(url.origin, {
      connections: options.connections,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  categories = (key: string) => this.#read(key, 'categories', {}, parseCategories);

  services = (key: string, filter: ServiceFilter = {}) =>
    this.#read(key, 'services', { category: filter.category, subcategory: filter.subcategory }, parseServices);

  inventory = (key: string, serviceId: string) =>
    this.#read(key, 'inventory', { service: serviceId }, (body) => parseInventory(body, serviceId));

  addOrder = (key: string, order: NewOrder) => this.#read(key, 'add', addFields(order), parseOrderId);

  orderStatus = (key: string, id: string) => this.#read(key, 'status', { order: id }, (body) => parseOrderState(body, id));

  /**
   * Many orders' statuses in one call (`orders=`, at most 100), each its state or its own error. A
   * supplier that does not take `orders=` answers an error for the whole call, or one order's shape:
   * that is remembered for a while, said once, and SingleStatusOnly tells the caller to read the
   * orders one at a time (`manyStatuses` is then false, and no such call is made).
   */
  async orderStatuses(key: string, ids: readonly string[]): Promise<Map<string, OrderState | GatewayError>> {
    const states = await this.#many(key, 'status', MANY_STATUSES, { orders: ids.join(',') }, (body, skipped) =>
      parseOrderStates(body, ids, skipped),
    );
    return this.#each(key, 'status', states);
  }

  /** Whether `status` takes many orders at once here, as far as the supplier has shown lately. */
  get manyStatuses(): boolean {
    return !this.lacks(MANY_STATUSES);
  }

  /** Asks for a refill of one order; resolves to the refill's id. Never retried. */
  refill = (key: string, orderId: string) => this.#read(key, 'refill', { order: orderId }, parseRefillId);

  refillStatus = (key: string, id: string) => this.#read(key, 'refill_status', { refill: id }, (body) => parseRefillState(body, id));

  /** Many refills' statuses in one call (`refills=`, at most 100), as orderStatuses reads orders. */
  async refillStatuses(key: string, ids: readonly string[]): Promise<Map<string, RefillState | GatewayError>> {
    const states = await this.#many(key, 'refill_status', MANY_REFILLS, { refills: ids.join(',') }, (body, skipped) =>
      parseRefillStates(body, ids, skipped),
    );
    return this.#each(key, 'refill_status', states);
  }

  get manyRefillStatuses(): boolean {
    return !this.lacks(MANY_REFILLS);
  }

  /** Asks the supplier to cancel these orders (at most 100): each `true` (asked) or its own error. Never retried. */
  async cancel(key: string, ids: readonly string[]): Promise<Map<string, true | GatewayError>> {
    const asked = await this.#read(key, 'cancel', { orders: ids.join(',') }, (body, skipped) => parseCancels(body, ids, skipped));
    return this.#each(key, 'cancel', asked);
  }

  /**
   * A read of many ids that a supplier may not take: an error for the whole call, or one item's
   * shape, is remembered for a while, said once, and SingleStatusOnly tells the caller to read the
   * ids one at a time.
   */
  async #many<T>(
    key: string,
    action: 'status' | 'refill_status',
    lack: Lack,
    params: Params,
    parse: (body: unknown, skipped: Skipped) => T,
  ) {
    try {
      return await this.#read(key, action, params, parse);
    } catch (error) {
      if (error instanceof SingleStatusOnly || isGatewayError(error, 'UPSTREAM_ERROR', 'NOT_FOUND')) {
        this.#lacking.set(lack, Date.now() + UNSUPPORTED_FOR_MS);
        this.#options.onSingleStatus?.(action);
        throw new SingleStatusOnly(`the supplier reads one ${action === 'status' ? 'order' : 'refill'} per ${action} call`);
      }
      throw error;
    }
  }

  /** Each item's own error text as the error it means; an item that could not be read as the supplier's fault. */
  #each<T>(key: string, action: Action, items: Map<string, Each<T>>): Map<string, T | GatewayError> {
    return new Map(
      [...items].map(([id, item]) => [
        id,
        typeof item === 'string'
          ? errorFromSupplier(redact(item, key), action)
          : item instanceof ParseError
            ? upstreamUnavailable(action, 'unexpected response', item)
            : item,
      ]),
    );
  }

  balance = (key: string) => this.#read(key, 'balance', {}, parseBalance);

  smsCountries = (key: string) => this.#read(key, 'sms_countries', {}, parseSmsCountries);

  smsProjects = (key: string, country?: string) => this.#read(key, 'sms_projects', { country }, parseSmsProjects);

  addSms = (key: string, order: NewSmsOrder, price: Money | null) =>
    this.#read(
      key,
      'add_sms',
      { project_id: order.projectId, quantity: order.quantity, country: order.country, phone: order.phone },
      (body) => parseSmsOrdersPlaced(body, price),
    );

  smsStatus = (key: string, id: string) => this.#read(key, 'sms_status', { order: id }, (body) => parseSmsStatus(body, id));

  smsCode = (key: string, id: string) => this.#read(key, 'sms_code', { order: id }, (body) => parseSmsCode(body, id));

  #read<T>(key: string, action: Action, params: Params, parse: (body: unknown, skipped: Skipped) => T): Promise<T> {
    return this.call(key, action, params, parse);
  }

  /** Whether the supplier said lately that it has no such action. */
  lacks(what: Lack): boolean {
    return (this.#lacking.get(what) ?? 0) > Date.now();
  }

  /**
   * Whether the supplier answers at all: one `balance` call with a key that is no key, outside
   * the guard (no standing is kept of it). Any well-formed answer, "Invalid API key" included,
   * proves it reachable.
   */
  async probe(): Promise<boolean> {
    try {
      await this.#attempt(PROBE_KEY, 'balance', {}, AbortSignal.timeout(this.#options.timeoutMs));
      return true;
    } catch (error) {
      return !(error instanceof TransientFailure);
    }
  }

  /**
   * One supplier call: a deadline over all attempts, retries for reads only (never after a 429,
   * which would add to the flood), errors mapped, everything under the upstream guard.
   */
  async call<T = unknown>(
    key: string,
    action: Action,
    params: Params = {},
    parse: (body: unknown, skipped: Skipped) => T = (body) => body as T,
  ): Promise<T> {
    if (this.lacks(action)) throw unsupportedAction(action);
    const started = performance.now();
    const problems: string[] = [];
    const deadline = AbortSignal.timeout(this.#options.timeoutMs);
    let attempts = 0;
    let outcome = 'unavailable' as CallOutcome;
    const span = supplierCallSpan(action);
    try {
      const body = await this.guard.run(
        key,
        action,
        deadline,
        span.bind(() => this.#attempts(key, action, params, deadline, started, () => (attempts += 1))),
      );
      try {
        const parsed = parse(body, (problem) => problems.push(problem));
        outcome = 'ok';
        return parsed;
      } catch (error) {
        // A 200 answer that does not have the documented shape is the supplier's fault, not the caller's.
        if (!(error instanceof ParseError)) throw error;
        outcome = 'parse_error';
        problems.push(error.message);
        // An answer to a spend that cannot be read came after the supplier acted on it: the order may exist.
        if (!RETRYABLE[action]) throw this.#mayHavePlaced(action, upstreamUnavailable(action, 'unexpected response', error));
        throw upstreamUnavailable(action, 'unexpected response', error);
      }
    } catch (error) {
      if (isUnsupportedAction(error) && !this.lacks(action)) {
        this.#lacking.set(action, Date.now() + UNSUPPORTED_FOR_MS);
        this.#options.onUnsupported?.(action, error.extensions.upstreamMessage as string | undefined);
      }
      if (error instanceof GatewayError && outcome !== 'parse_error') {
        outcome = error.code === 'RATE_LIMITED' ? 'rate_limited' : error.code === 'UPSTREAM_UNAVAILABLE' ? 'unavailable' : 'supplier_error';
      }
      throw error;
    } finally {
      span.end(attempts, outcome);
      this.#options.onCall?.({
        action,
        outcome,
        attempts,
        durationMs: performance.now() - started,
        ...(problems.length > 0 ? { problems } : {}),
      });
    }
  }

  async #attempts(
    key: string,
    action: Action,
    params: Params,
    deadline: AbortSignal,
    started: number,
    count: () => number,
  ): Promise<unknown> {
    const maxAttempts = RETRYABLE[action] ? this.#options.retries + 1 : 1;
    for (;;) {
      const attempts = count();
      try {
        return await this.#attempt(key, action, params, deadline);
      } catch (failure) {
        if (!(failure instanceof TransientFailure)) throw failure;
        const delay = this.#backoff(attempts);
        if (attempts >= maxAttempts || deadline.aborted || delay >= this.#remaining(started)) {
          throw this.#finalError(action, failure);
        }
        await sleep(delay);
      }
    }
  }

  async #attempt(key: string, action: Action, params: Params, signal: AbortSignal): Promise<unknown> {
    const form = new URLSearchParams({ key, action });
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== '') form.set(name, String(value));
    }
    let statusCode: number;
    let raw: string;
    let retryAfter: string | string[] | undefined;
    try {
      const response = await this.#pool.request({
        method: 'POST',
        path: this.#path,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal,
      });
      statusCode = response.statusCode;
      retryAfter = response.headers['retry-after'];
      raw = await response.body.text();
    } catch (cause) {
      const code = (cause as { code?: string }).code ?? '';
      const reason = signal.aborted ? 'timed out' : 'connection failed';
      throw new TransientFailure(upstreamUnavailable(action, reason, cause), !NOT_SENT.has(code));
    }
    if (statusCode === 429) throw new SupplierRateLimit(retryAfterMs(retryAfter));
    return this.#decode(key, action, statusCode, raw);
  }

  /** The `errorFromResponse` of this client: HTTP status and body decide together. */
  #decode(key: string, action: Action, statusCode: number, raw: string): unknown {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const supplierError = isRecord(body) ? text(body.error) : null;
    if (statusCode >= 500) {
      throw new TransientFailure(upstreamUnavailable(action, `HTTP ${statusCode}`), true);
    }
    if (supplierError !== null) throw errorFromSupplier(redact(supplierError, key), action);
    if (body === undefined || statusCode >= 300) {
      throw new TransientFailure(upstreamUnavailable(action, 'unexpected response'), true);
    }
    return body;
  }

  #finalError(action: Action, failure: TransientFailure): GatewayError {
    if (RETRYABLE[action] || !failure.maybeDelivered) return failure.error;
    return this.#mayHavePlaced(action, failure.error);
  }

  #mayHavePlaced(action: Action, error: GatewayError): GatewayError {
    return new GatewayError(
      'UPSTREAM_UNAVAILABLE',
      `${error.message} The order may have been placed: check your orders before placing it again.`,
      {
        extensions: { action, orderMayExist: true },
      },
    );
  }

  #backoff(attempt: number): number {
    return Math.random() * this.#options.retryBaseMs * 2 ** (attempt - 1);
  }

  #remaining(started: number): number {
    return this.#options.timeoutMs - (performance.now() - started);
  }
}

function redact(message: string, key: string): string {
  return key ? message.split(key).join('[redacted]') : message;
}
