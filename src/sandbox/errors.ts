/**
 * Every error text the sandbox answers, in one table. The first six are on the supplier's page;
 * the others are short panel-style texts for causes the page does not cover, then the words the
 * panel flavour uses where it says a thing differently (flavours.ts).
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
