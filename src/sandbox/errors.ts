/**
 * Every error text the sandbox answers, in one table. The first six are on the supplier's page;
 * the others are short panel-style texts for causes the page does not cover (the family's actions
 * and `add` parameters among them), then the words the panel flavour uses where it says a thing
 * differently (flavours.ts).
 */
export const ERRORS = {
  invalidKey: 'Invalid API key',
  invalidAction: 'Invalid action',
  serviceRequired: 'Service ID is required',
  insufficientBalance: 'Insufficient balance',
  orderNotFound: 'Order not found',
  serviceNotFound: 'Service not found',

  quantityRequired: 'Quantity is required',
  quantityRange: (min: number, max: number) => `Quantity must be between ${min} and ${max}`,
  linkRequired: 'Link is required',
  notEnoughStock: 'Not enough stock',
  orderRequired: 'Order ID is required',
  incorrectOrderId: 'Incorrect order ID',
  projectRequired: 'Project ID is required',
  projectNotFound: 'Project not found',
  smsQuantityRange: 'Quantity must be between 1 and 10',
  phoneNotFound: 'Phone number not found',
  countryMismatch: 'Country does not match project',
  temporarilyUnavailable: 'Service temporarily unavailable',

  fieldRequired: {
    comments: 'Comments are required',
    usernames: 'Usernames are required',
    hashtags: 'Hashtags are required',
    hashtag: 'Hashtag is required',
    username: 'Username is required',
    media: 'Media is required',
    groups: 'Groups are required',
    answer_number: 'Answer number is required',
    min: 'Min is required',
    max: 'Max is required',
    delay: 'Delay is required',
    interval: 'Interval is required',
  },
  incorrect: (label: string) => `Incorrect ${label}`,
  minAboveMax: 'Min must not be greater than max',
  dripFeedUnavailable: 'Drip-feed is not available for this service',
  tooManyIds: (max: number) => `At most ${max} IDs per request`,
  refillRequired: 'Refill ID is required',
  refillNotFound: 'Refill not found',
  refillUnavailable: 'Refill is not available for this service',
  refillNotCompleted: 'Only a completed or partial order can be refilled',
  refillInProgress: 'A refill of this order is already in progress',
  cancelUnavailable: 'Cancel is not available for this service',
  orderFinished: 'Order is already finished',

  unknownAction: 'Unknown action',
  notEnoughFunds: 'Not enough funds',
  databaseDown: 'Database connection failed. Please try again later.',

  notFound: 'Not found',
  methodNotAllowed: 'Method not allowed',
  bodyTooLarge: 'Request body too large',
  internal: 'Internal sandbox error',
} as const;

/** A refusal the supplier answers as `{"error": text}`: with HTTP 200, or a 4xx in the panel flavour. */
export class SupplierError extends Error {
  override name = 'SupplierError';
}

/** A bad call of the sandbox's own controls (programmatic or admin endpoint). */
export class SandboxInputError extends Error {
  override name = 'SandboxInputError';
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super(message);
  }
}
