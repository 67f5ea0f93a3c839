import { GraphQLError } from 'graphql';

/** The contract's `extensions.code` values. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'INSUFFICIENT_BALANCE'
  | 'OUT_OF_STOCK'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_ERROR';

export interface GatewayErrorOptions {
  /** The supplier's own error text, kept verbatim for callers that match on it. */
  upstreamMessage?: string;
  cause?: unknown;
  extensions?: Record<string, unknown>;
}

/** An error a caller may see: Yoga passes GraphQLErrors through its masking unchanged. */
export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    const extensions: Record<string, unknown> = { code, ...options.extensions };
    if (options.upstreamMessage !== undefined) extensions.upstreamMessage = options.upstreamMessage;
    // No originalError: Yoga would mask an error whose cause is not itself a GraphQLError.
    super(message, { extensions });
    this.code = code;
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function isGatewayError(error: unknown, ...codes: ErrorCode[]): error is GatewayError {
  return error instanceof GatewayError && (codes.length === 0 || codes.includes(error.code));
}

export const badInput = (message: string, extensions?: Record<string, unknown>) =>
  new GatewayError('BAD_USER_INPUT', message, { extensions });

/**
 * Supplier error texts differ between panels of this family ("Not enough funds" beside
 * "Insufficient balance"), so they are matched loosely; the first match wins.
 */
const SUPPLIER_ERRORS: ReadonlyArray<[RegExp, ErrorCode]> = [
  [/invalid (api )?key|api key (is )?(invalid|required|missing)|unauthori[sz]ed/i, 'UNAUTHENTICATED'],
  [/not enough (funds|balance|money)|insufficient (balance|funds)|low balance/i, 'INSUFFICIENT_BALANCE'],
  [/out of stock|not enough stock|insufficient stock|no stock/i, 'OUT_OF_STOCK'],
  [/not found|incorrect (order|service) id|invalid (order|service) id|unknown (order|service)/i, 'NOT_FOUND'],
  [/too many requests|rate limit/i, 'RATE_LIMITED'],
  // A panel that is down or busy often says so with HTTP 200: the caller should try again later.
  [/database|maintenance|try again|temporar(il)?y|timed? ?out|overload|busy|unavailable/i, 'UPSTREAM_UNAVAILABLE'],
];

/** How panels of the family say they have no such action (HstockPlus: "Invalid action"). */
const UNSUPPORTED_ACTION =
  /unknown action|invalid action|unsupported action|incorrect action|no such action|action (is )?not (supported|found|allowed|available)/i;

/** The supplier has no such action: the gateway falls back where it can (supplier.ts). */
export const isUnsupportedAction = (error: unknown): error is GatewayError =>
  error instanceof GatewayError && error.extensions.reason === 'UNSUPPORTED_ACTION';

export function unsupportedAction(action: string, upstreamMessage?: string): GatewayError {
  return new GatewayError('UPSTREAM_ERROR', `The supplier does not offer the ${action} action.`, {
    upstreamMessage,
    extensions: { action, reason: 'UNSUPPORTED_ACTION' },
  });
}

/** One place turns a supplier's `{"error": "..."}` into a GatewayError. */
export function errorFromSupplier(text: string, action: string): GatewayError {
  if (UNSUPPORTED_ACTION.test(text)) return unsupportedAction(action, text);
  const code = SUPPLIER_ERRORS.find(([pattern]) => pattern.test(text))?.[1] ?? 'UPSTREAM_ERROR';
  const message = code === 'UNAUTHENTICATED' ? 'The supplier rejected the API key.' : text;
  const extensions = code === 'RATE_LIMITED' ? { action, reason: 'SUPPLIER' } : { action };
  return new GatewayError(code, message, { upstreamMessage: text, extensions });
}

export function upstreamUnavailable(action: string, reason: string, cause?: unknown): GatewayError {
  return new GatewayError('UPSTREAM_UNAVAILABLE', `The supplier is unavailable (${reason}).`, {
    cause,
    extensions: { action },
  });
}
