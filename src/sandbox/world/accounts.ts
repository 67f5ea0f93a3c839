import { ERRORS, SupplierError } from '../errors.ts';
import type { SmsCountry } from '../sms/catalogue.ts';
import { parseDecimal, type Decimal } from './money.ts';

export interface SandboxKey {
  key: string;
  balance: string;
  /** Default USD. */
  currency?: string;
  /** Default "1": this key's catalogue rates and SMS prices are multiplied by it. */
  rateMultiplier?: string;
  /** Category names (as `categories` lists them) this key does not see. */
  hiddenCategories?: string[];
}

export const DEFAULT_KEYS: readonly SandboxKey[] = [
  { key: 'sandbox-demo-key', balance: '1000.00' },
  { key: 'sandbox-empty-key', balance: '0.00' },
  { key: 'sandbox-reseller-key', balance: '250.00', rateMultiplier: '0.8', hiddenCategories: ['Spotify'] },
];

interface RentedPhone {
  phone: string;
  country: SmsCountry;
}

export interface Account {
  key: string;
  balance: Decimal;
  currency: string;
  rateMultiplier: Decimal;
  hiddenCategories: ReadonlySet<string>;
  /** Numbers this key rented, by their digits, so `add_sms` can reuse them. */
  phones: Map<string, RentedPhone>;
}

export function createAccounts(keys: readonly SandboxKey[]): Map<string, Account> {
  const accounts = new Map<string, Account>();
  for (const entry of keys) {
    if (!entry.key) throw new TypeError('a sandbox key needs a non-empty key');
    if (accounts.has(entry.key)) throw new TypeError(`sandbox key ${entry.key} is listed twice`);
    accounts.set(entry.key, {
      key: entry.key,
      balance: parseDecimal(entry.balance, `balance of ${entry.key}`),
      currency: entry.currency ?? 'USD',
      rateMultiplier: parseDecimal(entry.rateMultiplier ?? '1', `rateMultiplier of ${entry.key}`),
      hiddenCategories: new Set(entry.hiddenCategories ?? []),
      phones: new Map(),
    });
  }
  return accounts;
}

export function debit(account: Account, amount: Decimal): void {
  if (account.balance.lt(amount)) throw new SupplierError(ERRORS.insufficientBalance);
  account.balance = account.balance.minus(amount);
}

export function credit(account: Account, amount: Decimal): void {
  account.balance = account.balance.plus(amount);
}
