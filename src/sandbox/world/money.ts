import Big from 'big.js';

export type Decimal = Big;

/** A constructor of our own: an embedding process that changes Big.DP or Big.RM cannot change our sums. */
const SandboxBig = Big();
SandboxBig.DP = 20;
SandboxBig.RM = Big.roundHalfUp;

const DECIMAL = /^\d+(\.\d+)?$/;
const MONEY_PLACES = 4;

export function decimal(value: string | number): Decimal {
  return new SandboxBig(value);
}

export function parseDecimal(text: string, what: string): Decimal {
  if (!DECIMAL.test(text)) {
    throw new TypeError(`${what} must be a non-negative decimal string such as "10.50" (got ${JSON.stringify(text)})`);
  }
  return decimal(text);
}

/** The supplier keeps money to 4 places; every product, share or quotient rounds half-up to them. */
export function scale(amount: Decimal, times: Decimal | number, divideBy: Decimal | number = 1): Decimal {
  return amount.times(times).div(divideBy).round(MONEY_PLACES, Big.roundHalfUp);
}

/** "0.50", "0.0555", "1000.00": at least 2 places, at most 4, as the panel prints balances, rates and charges. */
export function formatMoney(amount: Decimal): string {
  let text = amount.toFixed(MONEY_PLACES, Big.roundHalfUp);
  while (text.endsWith('0') && text.length - text.indexOf('.') > 3) text = text.slice(0, -1);
  return text;
}

/** SMS prices and charges always carry 4 places ("0.5000"). */
export function formatPrice(amount: Decimal): string {
  return amount.toFixed(MONEY_PLACES, Big.roundHalfUp);
}

const GROUPED_PLACES = 5;

/** "2,500.00000", "0.50000": how panels built on a thousands-separating number formatter print every amount. */
export function formatGrouped(amount: Decimal): string {
  const [whole = '0', fraction] = amount.toFixed(GROUPED_PLACES, Big.roundHalfUp).split('.');
  return `${whole.replace(/\B(?=(\d{3})+$)/g, ',')}.${fraction}`;
}
